{{
    config(
        unique_key='certificate_row_key',
        tags=['data_packages']
    )
}}

-- One row per row of a `certificates_generatedcertificate` dump, one copy per loaded file.
with source as (
    {{ package_new_rows('raw__edxorg__s3__tables__certificates_generatedcertificate', 'certificate_retrieved_at') }}
)

, cleaned as (
    select
        {{ olx_surrogate_key(['file_uri', 'line_number']) }} as certificate_row_key
        , coalesce(course_id, source_course_id) as courserun_id
        , try_cast(id as bigint) as certificate_id
        , try_cast(user_id as bigint) as user_id
        , try_cast(grade as double) as certificate_grade
        , status as certificate_status
        , mode as certificate_mode
        , try_cast(distinction as boolean) as certificate_has_distinction
        , name as certificate_user_full_name
        , key as certificate_key
        , verify_uuid as certificate_verify_uuid
        , download_uuid as certificate_download_uuid
        , download_url as certificate_download_url
        , error_reason as certificate_error_reason
        , {{ cast_utc_text_to_iso8601('created_date') }} as certificate_created_on
        , {{ cast_utc_text_to_iso8601('modified_date') }} as certificate_updated_on
        , {{ package_file_columns('certificate') }}
    from source
)

select * from cleaned
