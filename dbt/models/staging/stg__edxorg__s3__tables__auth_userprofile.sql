{{
    config(
        unique_key='userprofile_row_key',
        tags=['data_packages']
    )
}}

-- One row per row of an `auth_userprofile` dump (the learners' profiles), one copy per loaded file.
with source as (
    {{ package_new_rows('raw__edxorg__s3__tables__auth_userprofile', 'userprofile_retrieved_at') }}
)

, cleaned as (
    select
        {{ olx_surrogate_key(['file_uri', 'line_number']) }} as userprofile_row_key
        , course_id as courserun_id
        , try_cast(id as bigint) as userprofile_id
        , try_cast(user_id as bigint) as user_id
        , name as user_full_name
        , gender as user_gender
        , try_cast(year_of_birth as int) as user_year_of_birth
        , level_of_education as user_level_of_education
        , country as user_address_country
        , city as user_address_city
        , mailing_address as user_mailing_address
        , language as user_language
        , location as user_location
        , goals as user_goals
        , bio as user_bio
        , meta as userprofile_meta
        , try_cast(allow_certificate as boolean) as userprofile_allows_certificate
        , {{ cast_utc_text_to_iso8601('profile_image_uploaded_at') }} as userprofile_image_uploaded_on
        , {{ package_file_columns('userprofile') }}
    from source
)

select * from cleaned
