{{
    config(
        unique_key='forumdocument_row_key',
        tags=['data_packages']
    )
}}

-- One row per discussion forum document (a thread or a comment) of a data package's .mongo
-- file, one copy per loaded file.
with source as (
    {{ package_new_rows('raw__edxorg__s3__forum_documents', 'forumdocument_retrieved_at') }}
)

, cleaned as (
    select
        {{ olx_surrogate_key(['file_uri', 'line_number']) }} as forumdocument_row_key
        , coalesce(course_id, document_course_id) as courserun_id
        , document_id as forumdocument_id
        , document_type as forumdocument_type
        , comment_thread_id as forumdocument_comment_thread_id
        , parent_id as forumdocument_parent_id
        , commentable_id as forumdocument_commentable_id
        , thread_type as forumdocument_thread_type
        , try_cast(author_id as bigint) as user_id
        , author_username as user_username
        , title as forumdocument_title
        , body as forumdocument_body
        , {{ cast_timestamp_to_iso8601('created_at') }} as forumdocument_created_on
        , {{ cast_timestamp_to_iso8601('updated_at') }} as forumdocument_updated_on
        , document_json as forumdocument_json
        , {{ package_file_columns('forumdocument') }}
    from source
)

select * from cleaned
