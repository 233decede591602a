{{
    config(
        unique_key='studentmodule_row_key',
        tags=['data_packages']
    )
}}

-- One row per row of a `courseware_studentmodule` dump (a learner's state in one block), one
-- copy per loaded file.
with source as (
    {{ package_new_rows('raw__edxorg__s3__tables__courseware_studentmodule', 'studentmodule_retrieved_at') }}
)

, cleaned as (
    select
        {{ olx_surrogate_key(['file_uri', 'line_number']) }} as studentmodule_row_key
        , coalesce(course_id, source_course_id) as courserun_id
        , try_cast(id as bigint) as studentmodule_id
        , try_cast(student_id as bigint) as user_id
        , module_id as coursestructure_block_id
        , module_type as coursestructure_block_category
        , state as studentmodule_state_data
        , try_cast(grade as double) as studentmodule_problem_grade
        , try_cast(max_grade as double) as studentmodule_problem_max_grade
        , done as studentmodule_done
        , {{ cast_utc_text_to_iso8601('created') }} as studentmodule_created_on
        , {{ cast_utc_text_to_iso8601('modified') }} as studentmodule_updated_on
        , {{ package_file_columns('studentmodule') }}
    from source
)

select * from cleaned
