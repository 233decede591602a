{{
    config(
        unique_key='coursestaticfile_key'
    )
}}

with source as (
    select * from {{ source('ol_warehouse_raw_data', 'raw__openedx__s3__course_xml_static_files') }}
    {% if is_incremental() %}
    where retrieved_at > (
        select coalesce(to_timestamp(max(coursestaticfile_retrieved_at)), timestamp '1970-01-01')
        from {{ this }}
    )
    {% endif %}
)

, loaded_archives as (
    select archive_sha256
    from {{ source('ol_warehouse_raw_data', 'raw__openedx__s3__course_xml_archives') }}
    where status = 'loaded'
)

, cleaned as (
    select
        {{ olx_surrogate_key(['archive_sha256', 'path']) }} as coursestaticfile_key
        , course_id as courserun_id
        , archive_sha256 as coursestaticfile_archive_sha256
        , source_system as coursestaticfile_source_system
        , path as coursestaticfile_path
        , size_bytes as coursestaticfile_size_bytes
        , sha256 as coursestaticfile_sha256
        , mime_type as coursestaticfile_mime_type
        , asset_metadata_json as coursestaticfile_asset_metadata_json
        , {{ cast_timestamp_to_iso8601('retrieved_at') }} as coursestaticfile_retrieved_at
    from source
    where archive_sha256 in (select archive_sha256 from loaded_archives)
)

select * from cleaned
