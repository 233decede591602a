{{
    config(
        unique_key='coursestructure_block_key'
    )
}}

with source as (
    select * from {{ source('ol_warehouse_raw_data', 'raw__edxorg__s3__course_xml_blocks') }}
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
        {{ olx_surrogate_key(['archive_sha256', 'block_id', 'is_draft']) }} as coursestructure_block_key
        , course_id as courserun_id
        , archive_sha256 as coursestructure_archive_sha256
        , source_system as coursestructure_source_system
        , block_id as coursestructure_block_id
        , block_type as coursestructure_block_type
        , url_name as coursestructure_block_url_name
        , block_title as coursestructure_block_title
        , parent_block_id as coursestructure_parent_block_id
        , position as coursestructure_block_position
        , depth as coursestructure_block_depth
        , is_draft as coursestructure_block_is_draft
        , is_orphan as coursestructure_block_is_orphan
        , xml_path as coursestructure_block_xml_path
        , {{ olx_setting_timestamp('settings', 'start') }} as coursestructure_block_start_on
        , {{ olx_setting_timestamp('settings', 'due') }} as coursestructure_block_due_on
        , {{ olx_setting_boolean('settings', 'graded') }} as coursestructure_block_is_graded
        , {{ olx_setting_string('settings', 'format') }} as coursestructure_block_format
        , {{ olx_setting_boolean('settings', 'visible_to_staff_only') }} as coursestructure_block_is_visible_to_staff_only
        , {{ olx_setting_boolean('settings', 'hide_from_toc') }} as coursestructure_block_is_hidden_from_toc
        , {{ olx_setting_double('settings', 'weight') }} as coursestructure_block_weight
        , {{ olx_setting_int('settings', 'max_attempts') }} as coursestructure_block_max_attempts
        , {{ olx_setting_string('settings', 'showanswer') }} as coursestructure_block_showanswer
        , {{ olx_setting_string('settings', 'rerandomize') }} as coursestructure_block_rerandomize
        , {{ olx_setting_string('settings', 'youtube_id_1_0') }} as coursestructure_video_youtube_id
        , {{ olx_setting_string('settings', 'edx_video_id') }} as coursestructure_video_edx_video_id
        , case
            when block_type = 'video'
                then coalesce(
                    {{ olx_setting_double('settings', 'duration') }}
                    , try_cast(
                        nullif(regexp_extract(raw_xml, '<video_asset[^>]* duration="([0-9.]+)"', 1), '')
                        as double
                    )
                )
        end as coursestructure_video_duration_seconds
        , {{ olx_setting_string('settings', 'start_time') }} as coursestructure_video_start_time
        , {{ olx_setting_string('settings', 'end_time') }} as coursestructure_video_end_time
        , xml_attributes as coursestructure_block_xml_attributes
        , settings as coursestructure_block_settings
        , raw_xml as coursestructure_block_raw_xml
        , content as coursestructure_block_content
        , block_hash as coursestructure_block_hash
        , {{ cast_timestamp_to_iso8601('retrieved_at') }} as coursestructure_retrieved_at
    from source
    where archive_sha256 in (select archive_sha256 from loaded_archives)
)

select * from cleaned
