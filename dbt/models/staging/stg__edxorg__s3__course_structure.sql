{{
    config(
        unique_key='coursestructure_block_key',
        tags=['data_packages']
    )
}}

-- One row per block of a data package's course_structure JSON, one copy per loaded file, with
-- typed columns from the block's metadata.
with source as (
    {{ package_new_rows('raw__edxorg__s3__course_structure', 'coursestructure_retrieved_at') }}
)

, cleaned as (
    select
        {{ olx_surrogate_key(['file_uri', 'block_id']) }} as coursestructure_block_key
        , course_id as courserun_id
        , block_id as coursestructure_block_id
        , category as coursestructure_block_category
        , parent_block_id as coursestructure_parent_block_id
        , position as coursestructure_block_position
        , children as coursestructure_block_children
        , get_json_object(metadata_json, '$.display_name') as coursestructure_block_title
        , {{ cast_utc_text_to_iso8601("get_json_object(metadata_json, '$.start')") }} as coursestructure_block_start_on
        , {{ cast_utc_text_to_iso8601("get_json_object(metadata_json, '$.due')") }} as coursestructure_block_due_on
        , get_json_object(metadata_json, '$.format') as coursestructure_block_format
        , try_cast(get_json_object(metadata_json, '$.graded') as boolean) as coursestructure_block_is_graded
        , metadata_json as coursestructure_block_metadata
        , {{ package_file_columns('coursestructure', line_number=false) }}
    from source
)

select * from cleaned
