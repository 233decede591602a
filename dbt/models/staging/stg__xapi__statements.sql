{{
    config(
        unique_key='xapistatement_row_key',
        tags=['tracking_logs', 'xapi']
    )
}}

-- One row per xAPI statement of a tracking log in the xAPI ledger, with the useful parts of
-- the statement JSON typed. statement_id is not unique here (the same event logged twice gives
-- the same id): int__xapi__statements_deduped keeps one row per statement id.
-- Incremental by transformed_at (macros/stage_tracking_logs.sql).
with source as (
    {{ xapi_new_statements('xapistatement_transformed_at') }}
)

, cleaned as (
    select
        {{ olx_surrogate_key(['source_file_sha256', 'source_line_number', 'statement_id']) }} as xapistatement_row_key
        , statement_id as xapistatement_id
        , {{ cast_timestamp_to_iso8601('emission_time') }} as xapistatement_timestamp
        , statement_date as xapistatement_date
        , actor_id as xapistatement_actor_id
        , verb_id as xapistatement_verb_id
        , {{ xapi_json('$.verb.display.en') }} as xapistatement_verb_display
        , object_id as xapistatement_object_id
        , {{ xapi_json('$.object.definition.type') }} as xapistatement_object_type
        , coalesce(
            {{ xapi_json("$.object.definition.name['en-US']") }}
            , {{ xapi_json('$.object.definition.name.en') }}
        ) as xapistatement_object_name
        , nullif(course_id, '') as courserun_id
        , nullif(org, '') as courserun_org
        , event_name as xapistatement_event_name
        , {{ xapi_json('$.result.score.raw', 'double') }} as xapistatement_result_score_raw
        , {{ xapi_json('$.result.score.max', 'double') }} as xapistatement_result_score_max
        , {{ xapi_json('$.result.score.scaled', 'double') }} as xapistatement_result_score_scaled
        , {{ xapi_json('$.result.success', 'boolean') }} as xapistatement_result_success
        , {{ xapi_json('$.result.completion', 'boolean') }} as xapistatement_result_completion
        , {{ xapi_json('$.result.response') }} as xapistatement_result_response
        , {{ xapi_json('$.result.duration') }} as xapistatement_result_duration
        , {{ xapi_json("$.result.extensions['https://w3id.org/xapi/video/extensions/time']", 'double') }} as xapistatement_video_time_seconds
        , {{ xapi_json("$.result.extensions['https://w3id.org/xapi/cmi5/result/extensions/progress']", 'double') }} as xapistatement_progress_percent
        , {{ xapi_json('$.context.statement.id') }} as xapistatement_parent_statement_id
        , {{ xapi_json("$.context.extensions['https://w3id.org/xapi/openedx/extensions/session-id']") }} as xapistatement_session_id
        , statement as xapistatement_json
        , source_system as xapistatement_source_system
        , source_file_uri as xapistatement_source_file_uri
        , source_log_date as xapistatement_source_log_date
        , source_file_sha256 as xapistatement_source_file_sha256
        , source_line_number as xapistatement_source_line_number
        , {{ cast_timestamp_to_iso8601('source_retrieved_at') }} as xapistatement_retrieved_at
        , {{ cast_timestamp_to_iso8601('transformed_at') }} as xapistatement_transformed_at
    from source
)

select * from cleaned
