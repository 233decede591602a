{{
    config(
        unique_key='packagefile_row_key',
        tags=['data_packages']
    )
}}

-- The data package ledger, staged: one row per file read (loaded, unchanged or rejected) and
-- one per package per run.
with source as (
    select ledger.*
    from ({{ package_source_select('raw__edxorg__s3__data_package_files') }}) as ledger
    {% if is_incremental() -%}
    where ledger.retrieved_at > (
        select coalesce(to_timestamp(max(packagefile_retrieved_at)), timestamp '1970-01-01')
        from {{ this }}
    )
    {%- endif %}
)

, cleaned as (
    select
        {{ olx_surrogate_key(['file_uri', 'file_kind', 'status', 'retrieved_at']) }} as packagefile_row_key
        , course_id as courserun_id
        , source_system as packagefile_source_system
        , org as packagefile_org
        , course as courserun_course_number
        , run as courserun_run_tag
        , package_uri as packagefile_package_uri
        , package_date as packagefile_package_date
        , file_uri as packagefile_uri
        , file_sha256 as packagefile_sha256
        , member_path as packagefile_member_path
        , file_kind as packagefile_kind
        , table_name as packagefile_table_name
        , target_table as packagefile_target_table
        , course_id_hint as packagefile_course_id_hint
        , encrypted as packagefile_is_encrypted
        , file_size_bytes as packagefile_size_bytes
        , header as packagefile_header
        , row_count as packagefile_row_count
        , bad_line_count as packagefile_bad_line_count
        , member_count as packagefile_member_count
        , status as packagefile_status
        , retryable as packagefile_is_retryable
        , errors as packagefile_errors
        , case when errors is null then 0 else size(errors) end as packagefile_error_count
        , source_uri as packagefile_source_uri
        , source_size_bytes as packagefile_source_size_bytes
        , {{ cast_timestamp_to_iso8601('source_modified_at') }} as packagefile_source_modified_at
        , parser_version as packagefile_parser_version
        , {{ cast_timestamp_to_iso8601('retrieved_at') }} as packagefile_retrieved_at
    from source
)

select * from cleaned
