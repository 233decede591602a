{{
    config(
        unique_key='coursestructure_edge_key'
    )
}}

with source as (
    select * from {{ source('ol_warehouse_raw_data', 'raw__edxorg__s3__course_xml_edges') }}
    {% if is_incremental() %}
    where retrieved_at > (
        select coalesce(to_timestamp(max(coursestructure_retrieved_at)), timestamp '1970-01-01')
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
        {{ olx_surrogate_key(['archive_sha256', 'parent_block_id', 'child_block_id', 'position', 'is_draft']) }} as coursestructure_edge_key
        , course_id as courserun_id
        , archive_sha256 as coursestructure_archive_sha256
        , source_system as coursestructure_source_system
        , parent_block_id as coursestructure_parent_block_id
        , child_block_id as coursestructure_child_block_id
        , position as coursestructure_child_position
        , is_draft as coursestructure_edge_is_draft
        , {{ cast_timestamp_to_iso8601('retrieved_at') }} as coursestructure_retrieved_at
    from source
    where archive_sha256 in (select archive_sha256 from loaded_archives)
)

select * from cleaned
