{{
    config(
        tags=['tracking_logs']
    )
}}

-- Video viewings reconstructed from play / pause / stop / seek events, one row per viewing,
-- by edX Insights' rules (edx-analytics-pipeline, insights/video.py): per learner and video in
-- time order, a play opens a viewing that starts at its currentTime, or at the new_time of a
-- seek that closed the viewing just before it; pause and stop close it at their currentTime
-- (pause defaults to 0), seek at its old_time; a play while a viewing is open replaces it; a
-- viewing with no closing event is dropped. Dropped too: time offsets that are not numbers in
-- 0..36000 s, viewings ending before they start, shorter than 0.25 s, or ending more than 1 s
-- past the duration the play event gives. The video is the block the event's `id` names
-- (the usage key in context.module, else the course block with that url_name).
with valid_events as (
    select * from {{ ref('int__tracking__video_events') }}
)

, checked as (
    select *
    from valid_events
    where
        case
            when video_action = 'seek'
                then old_time between 0 and 36000 and new_time between 0 and 36000
            else current_time between 0 and 36000
        end
)

, sequenced as (
    select
        *
        , lag(video_action) over learner_video as previous_action
        , lag(video_action, 2) over learner_video as action_before_previous
        , lag(new_time) over learner_video as previous_new_time
        , lead(video_action) over learner_video as next_action
        , lead(current_time) over learner_video as next_current_time
        , lead(old_time) over learner_video as next_old_time
    from checked
    window learner_video as (
        partition by courserun_id, user_id, video_block_id
        order by event_at, file_sha256, line_number
    )
)

, viewings as (
    select
        courserun_id
        , user_id
        , video_block_id
        , event_at as viewing_started_at
        , event_duration as video_duration_seconds
        , case
            when previous_action = 'seek' and action_before_previous = 'play' then previous_new_time
            else current_time
        end as start_offset
        , case when next_action = 'seek' then next_old_time else next_current_time end as end_offset
    from sequenced
    where
        video_action = 'play'
        and next_action in ('pause', 'stop', 'seek')
)

, kept as (
    select *
    from viewings
    where
        end_offset >= start_offset
        and end_offset - start_offset >= 0.25
        and (video_duration_seconds is null or end_offset <= video_duration_seconds + 1)
)

select * from kept
