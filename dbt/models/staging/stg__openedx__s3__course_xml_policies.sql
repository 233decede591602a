{{
    config(
        unique_key='coursepolicy_key'
    )
}}

with source as (
    select * from {{ source('ol_warehouse_raw_data', 'raw__openedx__s3__course_xml_policies') }}
    {% if is_incremental() %}
    where retrieved_at > (
        select coalesce(to_timestamp(max(coursepolicy_retrieved_at)), timestamp '1970-01-01')
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
