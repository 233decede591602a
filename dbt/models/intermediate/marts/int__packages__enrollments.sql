{{
    config(
        tags=['data_packages']
    )
}}

-- One row per learner and course run of the data packages' student_courseenrollment: the
-- newest row (by package date, then when it was read), i.e. the LMS's current state.
with enrollments as (
    select * from {{ ref('stg__edxorg__s3__tables__student_courseenrollment') }}
    where
        user_id is not null
        and courserun_id is not null
)

, ranked as (
    select
        *
        , row_number() over (
            partition by courserun_id, user_id
            order by enrollment_package_date desc, enrollment_retrieved_at desc, enrollment_file_uri desc, enrollment_line_number desc
        ) as enrollment_rank
    from enrollments
)

, latest as (
    select
        courserun_id
        , user_id
        , enrollment_mode
        , enrollment_is_active
        , enrollment_created_on
        , enrollment_package_date
    from ranked
    where enrollment_rank = 1
)

select * from latest
