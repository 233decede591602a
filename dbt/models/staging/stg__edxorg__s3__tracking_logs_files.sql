{{
    config(
        unique_key='trackinglogfile_row_key',
        tags=['tracking_logs']
    )
}}

-- The tracking log ledger, staged: one row per log file read (loaded, partial, duplicate or
-- rejected), per run. Incremental by retrieved_at.
with source as (
    select ledger.*
    from ({{ package_source_select('raw__edxorg__s3__tracking_logs_files') }}) as ledger
    where true
        {{- newer_than_staged('ledger.retrieved_at', 'trackinglogfile_retrieved_at') }}
)

, cleaned as (
    select
        {{ olx_surrogate_key(['file_uri', 'file_sha256', 'retrieved_at']) }} as trackinglogfile_row_key
        , source_system as trackinglogfile_source_system
        , file_uri as trackinglogfile_uri
        , nullif(file_sha256, '') as trackinglogfile_sha256
        , org as trackinglogfile_org
        , site as trackinglogfile_site
        , log_date as trackinglogfile_log_date
        , file_size_bytes as trackinglogfile_size_bytes
        , {{ cast_timestamp_to_iso8601('file_modified_at') }} as trackinglogfile_modified_at
        , encrypted as trackinglogfile_is_encrypted
        , compression as trackinglogfile_compression
        , plaintext_bytes as trackinglogfile_plaintext_bytes
        , line_count as trackinglogfile_line_count
        , event_count as trackinglogfile_event_count
        , bad_line_count as trackinglogfile_bad_line_count
        , recovered_line_count as trackinglogfile_recovered_line_count
        , status as trackinglogfile_status
        , retryable as trackinglogfile_is_retryable
        , errors as trackinglogfile_errors
        , case when errors is null then 0 else size(errors) end as trackinglogfile_error_count
        , parser_version as trackinglogfile_parser_version
        , {{ cast_timestamp_to_iso8601('retrieved_at') }} as trackinglogfile_retrieved_at
    from source
)

select * from cleaned
