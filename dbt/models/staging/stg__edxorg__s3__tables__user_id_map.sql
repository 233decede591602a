{{
    config(
        unique_key='usermap_row_key',
        tags=['data_packages']
    )
}}

-- One row per row of a `user_id_map` dump: a learner's anonymized id (as in the tracking
-- logs' research exports) and their user id, one copy per loaded file.
with source as (
    {{ package_new_rows('raw__edxorg__s3__tables__user_id_map', 'usermap_retrieved_at') }}
)

, cleaned as (
    select
        {{ olx_surrogate_key(['file_uri', 'line_number']) }} as usermap_row_key
        , course_id as courserun_id
        , hash_id as user_hash_id
        -- The second column is `user_id` in some packages and `id` in others.
        , try_cast(coalesce(user_id, id) as bigint) as user_id
        , username as user_username
        , {{ package_file_columns('usermap') }}
    from source
)

select * from cleaned
