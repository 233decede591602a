{{
    config(
        unique_key='coursepage_key'
    )
}}

with source as (
    select * from {{ source('ol_warehouse_raw_data', 'raw__edxorg__s3__course_xml_pages') }}
    {% if is_incremental() %}
    where retrieved_at > (
        select coalesce(to_timestamp(max(coursepage_retrieved_at)), timestamp '1970-01-01')
        from {{ this }}
    )
    {% endif %}
)

, loaded_archives as (
    select archive_sha256
    from {{ source('ol_warehouse_raw_data', 'raw__edxorg__s3__course_xml_archives') }}
    where status = 'loaded'
)

, cleaned as (
    select
        {{ olx_surrogate_key(['archive_sha256', 'path']) }} as coursepage_key
        , course_id as courserun_id
        , archive_sha256 as coursepage_archive_sha256
        , source_system as coursepage_source_system
        , page_type as coursepage_type
        , name as coursepage_name
        , path as coursepage_path
        , content as coursepage_content
        , {{ cast_timestamp_to_iso8601('retrieved_at') }} as coursepage_retrieved_at
    from source
    where archive_sha256 in (select archive_sha256 from loaded_archives)
)

select * from cleaned
