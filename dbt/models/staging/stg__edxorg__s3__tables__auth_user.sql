{{
    config(
        unique_key='user_row_key',
        tags=['data_packages']
    )
}}

-- One row per row of an `auth_user` dump: the course run's learners, one copy per loaded file.
with source as (
    {{ package_new_rows('raw__edxorg__s3__tables__auth_user', 'user_retrieved_at') }}
)

, cleaned as (
    select
        {{ olx_surrogate_key(['file_uri', 'line_number']) }} as user_row_key
        , course_id as courserun_id
        , try_cast(id as bigint) as user_id
        , username as user_username
        , first_name as user_first_name
        , last_name as user_last_name
        , email as user_email
        , try_cast(is_active as boolean) as user_is_active
        , try_cast(is_staff as boolean) as user_is_staff
        , try_cast(is_superuser as boolean) as user_is_superuser
        , {{ cast_utc_text_to_iso8601('last_login') }} as user_last_login
        , {{ cast_utc_text_to_iso8601('date_joined') }} as user_joined_on
        , {{ package_file_columns('user') }}
    from source
)

select * from cleaned
