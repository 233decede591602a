{{
    config(
        tags=['data_packages']
    )
}}

-- One row per learner and course run of the data packages' certificates_generatedcertificate:
-- the newest row (by package date, then when it was read).
with certificates as (
    select * from {{ ref('stg__edxorg__s3__tables__certificates_generatedcertificate') }}
    where
        user_id is not null
        and courserun_id is not null
)

, ranked as (
    select
        *
        , row_number() over (
            partition by courserun_id, user_id
            order by certificate_package_date desc, certificate_retrieved_at desc, certificate_file_uri desc, certificate_line_number desc
        ) as certificate_rank
    from certificates
)

, latest as (
    select
        courserun_id
        , user_id
        , certificate_status
        , certificate_grade
        , certificate_mode
        , certificate_created_on
    from ranked
    where certificate_rank = 1
)

select * from latest
