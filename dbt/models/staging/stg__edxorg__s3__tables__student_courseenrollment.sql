{{
    config(
        unique_key='enrollment_row_key',
        tags=['data_packages']
    )
}}

-- One row per row of a `student_courseenrollment` dump, one copy per loaded file.
with source as (
    {{ package_new_rows('raw__edxorg__s3__tables__student_courseenrollment', 'enrollment_retrieved_at') }}
)

, cleaned as (
    select
        {{ olx_surrogate_key(['file_uri', 'line_number']) }} as enrollment_row_key
        -- `course_id`: the course of the file (resolved by the job); the dump's own column is
        -- `source_course_id`.
        , coalesce(course_id, source_course_id) as courserun_id
        , try_cast(id as bigint) as enrollment_id
        , try_cast(user_id as bigint) as user_id
        , mode as enrollment_mode
        , try_cast(is_active as boolean) as enrollment_is_active
        , {{ cast_utc_text_to_iso8601('created') }} as enrollment_created_on
        , {{ package_file_columns('enrollment') }}
    from source
)

select * from cleaned
