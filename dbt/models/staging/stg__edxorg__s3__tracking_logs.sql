{{
    config(
        unique_key='useractivity_row_key',
        tags=['tracking_logs']
    )
}}

-- One row per event (JSON line) of a tracking log file the ledger lists as loaded or partial.
-- Incremental by retrieved_at (macros/stage_tracking_logs.sql).
with source as (
    {{ tracking_log_new_events('useractivity_retrieved_at') }}
)

, cleaned as (
    select
        {{ olx_surrogate_key(['file_sha256', 'line_number']) }} as useractivity_row_key
        , user_id
        , nullif(username, '') as user_username
        , nullif(course_id, '') as courserun_id
        , nullif(org_id, '') as courserun_org
        , coalesce(nullif(event_name, ''), event_type) as useractivity_event_name
        , event_type as useractivity_event_type
        , event_source as useractivity_event_source
        , {{ cast_timestamp_to_iso8601('event_time') }} as useractivity_timestamp
        , event_date as useractivity_event_date
        , event_time_raw as useractivity_timestamp_text
        , session as useractivity_session_id
        , page as useractivity_page_url
        , referer as useractivity_http_referer
        , agent as useractivity_http_user_agent
        , host as useractivity_http_host
        , ip as useractivity_ip
        , accept_language as useractivity_http_accept_language
        , event_json as useractivity_event_json
        , context_json as useractivity_context_json
        , line_prefix as useractivity_line_prefix
        , source_system as useractivity_source_system
        , file_uri as useractivity_file_uri
        , file_sha256 as useractivity_file_sha256
        , line_number as useractivity_line_number
        , {{ cast_timestamp_to_iso8601('retrieved_at') }} as useractivity_retrieved_at
    from source
)

select * from cleaned
