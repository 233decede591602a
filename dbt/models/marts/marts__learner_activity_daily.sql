{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='activity_key',
        on_schema_change='append_new_columns',
        partition_by=['activity_date'],
        tags=['tracking_logs']
    )
}}

-- Learner x course run x day from the tracking log events (int__tracking__course_events).
-- Incremental: a run recomputes, from every staged event of those days, only the days that
-- received events read after the newest this model holds, or whose events named a learner
-- by username only that a package read since then resolved, and merges them by key. Two
-- watermarks, one per kind of input, so that a package read while a log is being landed
-- cannot move the logs' watermark past that log.
with events as (
    select * from {{ ref('int__tracking__course_events') }}
    {% if is_incremental() %}
    where event_date in (
        select distinct event_date
        from {{ ref('int__tracking__course_events') }}
        where
            retrieved_at > (select coalesce(max(activity_retrieved_at), '') from {{ this }})
            or user_resolved_at > (select coalesce(max(activity_resolved_at), '') from {{ this }})
    )
    {% endif %}
)

, activity as (
    select
        *
        , lead(event_at) over (
            partition by courserun_id, user_id, event_date
            order by event_at, file_sha256, line_number
        ) as next_event_at
    from events
    where is_activity
)

, daily as (
    select
        courserun_id
        , user_id
        , event_date as activity_date
        , max(user_username) as user_username
        , count(*) as event_count
        , count_if(is_video_play) as video_play_count
        , count_if(is_problem_check) as problem_check_count
        , count_if(is_forum_post) as forum_post_count
        , count_if(is_navigation) as navigation_event_count
        -- the gap to the next event, capped; the day's last event adds nothing
        , cast(coalesce(sum(
            case
                when next_event_at is not null
                    then least(
                        unix_micros(next_event_at) - unix_micros(event_at)
                        , {{ var('marts_time_on_site_gap_seconds', 300) }} * 1000000
                    )
            end
        ), 0) / 1000000.0 as double) as time_on_site_seconds
        , {{ cast_timestamp_to_iso8601('min(event_at)') }} as first_event_at
        , {{ cast_timestamp_to_iso8601('max(event_at)') }} as last_event_at
        , max(retrieved_at) as activity_retrieved_at
        , max(user_resolved_at) as activity_resolved_at
    from activity
    group by courserun_id, user_id, event_date
)

, final as (
    select
        {{ olx_surrogate_key(['courserun_id', 'user_id', 'activity_date']) }} as activity_key
        , courserun_id
        , user_id
        , activity_date
        , user_username
        , event_count
        , video_play_count
        , problem_check_count
        , forum_post_count
        , navigation_event_count
        , time_on_site_seconds
        , first_event_at
        , last_event_at
        , activity_retrieved_at
        , activity_resolved_at
    from daily
)

select * from final
