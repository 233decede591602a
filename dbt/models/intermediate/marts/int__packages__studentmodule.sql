{{
    config(
        tags=['data_packages']
    )
}}

-- One row per learner, course run and block of the data packages' courseware_studentmodule:
-- the newest row (by package date, then when it was read), with the attempts from its state.
with modules as (
    select * from {{ ref('stg__edxorg__s3__tables__courseware_studentmodule') }}
    where
        user_id is not null
        and courserun_id is not null
        and coursestructure_block_id is not null
)

, ranked as (
    select
        *
        , row_number() over (
            partition by courserun_id, user_id, coursestructure_block_id
            order by studentmodule_package_date desc, studentmodule_retrieved_at desc, studentmodule_file_uri desc, studentmodule_line_number desc
        ) as module_rank
    from modules
)

, latest as (
    select
        courserun_id
        , user_id
        , coursestructure_block_id as block_id
        , coursestructure_block_category as block_type
        , studentmodule_problem_grade as problem_grade
        , studentmodule_problem_max_grade as problem_max_grade
        , try_cast(get_json_object(studentmodule_state_data, '$.attempts') as int) as problem_attempts
        , studentmodule_created_on
        , studentmodule_updated_on
    from ranked
    where module_rank = 1
)

select * from latest
