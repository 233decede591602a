{{
    config(
        unique_key='coursearchive_key'
    )
}}

with source as (
    select * from {{ source('ol_warehouse_raw_data', 'raw__openedx__s3__course_xml_archives') }}
    {% if is_incremental() %}
    where retrieved_at > (
        select coalesce(to_timestamp(max(coursearchive_retrieved_at)), timestamp '1970-01-01')
        from {{ this }}
    )
    {% endif %}
)

, cleaned as (
    select
        {{ olx_surrogate_key(['archive_uri', 'archive_sha256', 'retrieved_at']) }} as coursearchive_key
        , course_id as courserun_id
        , archive_sha256 as coursearchive_sha256
        , source_system as coursearchive_source_system
        , archive_uri as coursearchive_uri
        , archive_size_bytes as coursearchive_size_bytes
        , {{ cast_timestamp_to_iso8601('archive_modified_at') }} as coursearchive_modified_at
        , org as courserun_org
        , course as courserun_course_number
        , run as courserun_run_tag
        , course_version as coursearchive_course_version
        , block_count as coursearchive_block_count
        , status as coursearchive_status
        , errors as coursearchive_errors
        , coalesce(size(errors), 0) as coursearchive_error_count
        , parser_version as coursearchive_parser_version
        , {{ cast_timestamp_to_iso8601('retrieved_at') }} as coursearchive_retrieved_at
    from source
)

select * from cleaned
