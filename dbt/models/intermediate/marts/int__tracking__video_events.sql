{{
    config(
        tags=['tracking_logs']
    )
}}

-- Video player events (play, pause, stop, seek; browser and mobile spellings), one row per
-- event, with the video resolved to a course block: the usage key in context.module, else the
-- block of the course whose url_name is the event's `id` (legacy events), else that `id`.
-- Time offsets as numbers (pause without currentTime at 0, as edX Insights reads them).
with events as (
    select * from {{ ref('int__tracking__course_events') }}
    where event_source in ('browser', 'mobile')
)

, blocks as (
    select * from {{ ref('int__course_blocks__ordered') }}
    where block_type = 'video'
)

, video_events as (
    select
        courserun_id
        , user_id
        , event_at
        , file_sha256
        , line_number
        , case
            when event_type = 'play_video' or event_name in ('play_video', 'edx.video.played') then 'play'
            when event_type = 'pause_video' or event_name in ('pause_video', 'edx.video.paused') then 'pause'
            when event_type = 'stop_video' or event_name in ('stop_video', 'edx.video.stopped') then 'stop'
            when event_type = 'seek_video' or event_name in ('seek_video', 'edx.video.position.changed') then 'seek'
        end as video_action
        , trim(get_json_object(event_json, '$.id')) as event_video_id
        , case
            when get_json_object(context_json, '$.module.usage_key') like '%type@video+block@%'
                then get_json_object(context_json, '$.module.usage_key')
        end as module_usage_key
        , try_cast(coalesce(
            get_json_object(event_json, '$.currentTime'), get_json_object(event_json, '$.current_time')
        ) as double) as current_time
        , try_cast(get_json_object(event_json, '$.old_time') as double) as old_time
        , try_cast(get_json_object(event_json, '$.new_time') as double) as new_time
        , nullif(try_cast(get_json_object(event_json, '$.duration') as double), 0) as event_duration
    from events
)

, valid_events as (
    select
        video_events.courserun_id
        , video_events.user_id
        , video_events.event_at
        , video_events.file_sha256
        , video_events.line_number
        , video_events.video_action
        , coalesce(video_events.module_usage_key, by_url_name.block_id, video_events.event_video_id) as video_block_id
        , case when video_events.video_action = 'pause' then coalesce(video_events.current_time, 0)
            else video_events.current_time end as current_time
        , video_events.old_time
        , video_events.new_time
        , video_events.event_duration
    from video_events
    left join blocks as by_url_name
        on
            video_events.module_usage_key is null
            and video_events.courserun_id = by_url_name.courserun_id
            and video_events.event_video_id = by_url_name.block_url_name
    where
        video_events.video_action is not null
        and nullif(video_events.event_video_id, '') is not null
)


select * from valid_events
