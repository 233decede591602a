{#
    The staging SQL of the course tables, one macro per raw table, shared by both platforms:
    `stg__{platform}__s3__course_xml_{entity}` is `{{ stage_course_xml_{entity}('{platform}') }}`.
    Each reads only raw rows newer than the newest it already holds (incremental, by
    `retrieved_at`) and, for content tables, only rows of archives the ledger lists as `loaded`
    (rows of a run killed before its ledger commit are never staged).
#}

{% macro course_xml_source(platform, entity) -%}
    {{ source('ol_warehouse_raw_data', 'raw__' ~ platform ~ '__s3__course_xml_' ~ entity) }}
{%- endmacro %}

{#- Raw rows of one table that this incremental model does not hold yet. -#}
{% macro course_xml_new_rows(platform, entity, staged_retrieved_at) -%}
    select * from {{ course_xml_source(platform, entity) }}
    {% if is_incremental() %}
    where retrieved_at > (
        select coalesce(to_timestamp(max({{ staged_retrieved_at }})), timestamp '1970-01-01')
        from {{ this }}
    )
    {% endif %}
{%- endmacro %}

{#- The archives whose rows may be staged: those the ledger lists as loaded. -#}
{% macro course_xml_loaded_archives(platform) -%}
    select archive_sha256
    from {{ course_xml_source(platform, 'archives') }}
    where status = 'loaded'
{%- endmacro %}

{% macro stage_course_xml_archives(platform) -%}
with source as (
    {{ course_xml_new_rows(platform, 'archives', 'coursearchive_retrieved_at') }}
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
{%- endmacro %}

{% macro stage_course_xml_blocks(platform) -%}
with source as (
    {{ course_xml_new_rows(platform, 'blocks', 'coursestructure_retrieved_at') }}
)

, loaded_archives as (
    {{ course_xml_loaded_archives(platform) }}
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
        , subtree_hash as coursestructure_subtree_hash
        , {{ cast_timestamp_to_iso8601('retrieved_at') }} as coursestructure_retrieved_at
    from source
    where archive_sha256 in (select archive_sha256 from loaded_archives)
)

select * from cleaned
{%- endmacro %}

{% macro stage_course_xml_edges(platform) -%}
with source as (
    {{ course_xml_new_rows(platform, 'edges', 'coursestructure_retrieved_at') }}
)

, loaded_archives as (
    {{ course_xml_loaded_archives(platform) }}
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
{%- endmacro %}

{% macro stage_course_xml_policies(platform) -%}
with source as (
    {{ course_xml_new_rows(platform, 'policies', 'coursepolicy_retrieved_at') }}
)

, loaded_archives as (
    {{ course_xml_loaded_archives(platform) }}
)

, cleaned as (
    select
        {{ olx_surrogate_key(['archive_sha256', 'policy_file', 'policy_key', 'setting']) }} as coursepolicy_key
        , course_id as courserun_id
        , archive_sha256 as coursepolicy_archive_sha256
        , source_system as coursepolicy_source_system
        , policy_file as coursepolicy_file
        , policy_key as coursepolicy_policy_key
        , block_id as coursestructure_block_id
        , setting as coursepolicy_setting
        , value_json as coursepolicy_value_json
        , {{ cast_timestamp_to_iso8601('retrieved_at') }} as coursepolicy_retrieved_at
    from source
    where archive_sha256 in (select archive_sha256 from loaded_archives)
)

select * from cleaned
{%- endmacro %}

{% macro stage_course_xml_pages(platform) -%}
with source as (
    {{ course_xml_new_rows(platform, 'pages', 'coursepage_retrieved_at') }}
)

, loaded_archives as (
    {{ course_xml_loaded_archives(platform) }}
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
{%- endmacro %}

{% macro stage_course_xml_static_files(platform) -%}
with source as (
    {{ course_xml_new_rows(platform, 'static_files', 'coursestaticfile_retrieved_at') }}
)

, loaded_archives as (
    {{ course_xml_loaded_archives(platform) }}
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
{%- endmacro %}
