{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='activity_week_key',
        on_schema_change='append_new_columns',
        tags=['tracking_logs']
    )
}}

-- edX Insights course_activity: distinct learners per course run, ISO week (Monday start) and
-- activity, from marts__learner_activity_daily. Incremental: only the weeks holding days that
-- were (re)computed since the newest this model holds (by either of the daily model's two
-- watermarks) are recomputed, from all their days.
with daily as (
    select * from {{ ref('marts__learner_activity_daily') }}
    {% if is_incremental() %}
    where date_trunc('week', activity_date) in (
        select distinct date_trunc('week', activity_date)
        from {{ ref('marts__learner_activity_daily') }}
        where
            activity_retrieved_at > (select coalesce(max(activity_retrieved_at), '') from {{ this }})
            or activity_resolved_at > (select coalesce(max(activity_resolved_at), '') from {{ this }})
    )
    {% endif %}
)

, labelled as (
    select
        courserun_id
        , user_id
        , to_date(date_trunc('week', activity_date)) as week_start_date
        , activity_retrieved_at
        , activity_resolved_at
        , stack(
            4
            , 'ACTIVE', event_count > 0
            , 'PLAYED_VIDEO', video_play_count > 0
            , 'ATTEMPTED_PROBLEM', problem_check_count > 0
            , 'POSTED_FORUM', forum_post_count > 0
        ) as (activity, did)
    from daily
)

, weekly as (
    select
        courserun_id
        , week_start_date
        , activity
        , count(distinct user_id) as learner_count
        , max(activity_retrieved_at) as activity_retrieved_at
        , max(activity_resolved_at) as activity_resolved_at
    from labelled
    where did
    group by courserun_id, week_start_date, activity
)

, final as (
    select
        {{ olx_surrogate_key(['courserun_id', 'week_start_date', 'activity']) }} as activity_week_key
        , courserun_id
        , week_start_date
        , activity
        , learner_count
        , activity_retrieved_at
        , activity_resolved_at
    from weekly
)

select * from final
