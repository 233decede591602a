{{
    config(
        tags=['tracking_logs']
    )
}}

-- Per video with events: edX Insights' `video` figures (users at start and at the complete-end
-- segment, seconds viewed) from int__tracking__video_viewings, and unique viewers, plays and
-- learners who watched at least 95 % of the segments (Aspects, edx2bigquery). Duration: the
-- course's (video settings or video_asset), else the largest the events carry.
{%- set segment_seconds = var('marts_video_segment_seconds', 5) %}
with video_events as (
    select * from {{ ref('int__tracking__video_events') }}
)

, viewings as (
    select * from {{ ref('int__tracking__video_viewings') }}
)

, blocks as (
    select * from {{ ref('int__course_blocks__ordered') }}
    where block_type = 'video'
)

, videos as (
    select
        courserun_id
        , video_block_id
        , count_if(video_action = 'play') as play_count
        , max(event_duration) as event_duration
    from video_events
    group by courserun_id, video_block_id
)

, durations as (
    select
        videos.courserun_id
        , videos.video_block_id
        , videos.play_count
        , blocks.block_title as video_title
        , coalesce(blocks.video_duration_seconds, videos.event_duration) as duration_seconds
        , case
            when blocks.video_duration_seconds is not null then 'course'
            when videos.event_duration is not null then 'events'
        end as duration_source
    from videos
    left join blocks
        on
            videos.courserun_id = blocks.courserun_id
            and videos.video_block_id = blocks.block_id
)

, segments as (
    select
        viewings.courserun_id
        , viewings.video_block_id
        , viewings.user_id
        , explode(sequence(
            cast(floor(viewings.start_offset / {{ segment_seconds }}) as int)
            , cast(floor(viewings.end_offset / {{ segment_seconds }}) as int)
        )) as segment
    from viewings
)

, learner_coverage as (
    select
        segments.courserun_id
        , segments.video_block_id
        , segments.user_id
        , bool_or(segments.segment = 0) as saw_start
        , bool_or(
            segments.segment = cast(floor(
                greatest(durations.duration_seconds - 30, durations.duration_seconds * 0.95) / {{ segment_seconds }}
            ) as int)
        ) as saw_end
        , count(distinct segments.segment) as segments_seen
        , max(ceil(durations.duration_seconds / {{ segment_seconds }})) as segments_in_video
    from segments
    inner join durations
        on
            segments.courserun_id = durations.courserun_id
            and segments.video_block_id = durations.video_block_id
    group by segments.courserun_id, segments.video_block_id, segments.user_id
)

, viewing_totals as (
    select
        courserun_id
        , video_block_id
        , count(*) as viewing_count
        , sum(end_offset - start_offset) as total_viewed_seconds
    from viewings
    group by courserun_id, video_block_id
)

, coverage_totals as (
    select
        courserun_id
        , video_block_id
        , count(*) as unique_viewers
        , count_if(saw_start) as users_at_start
        , count_if(saw_end) as users_at_end
        , count_if(segments_seen >= 0.95 * segments_in_video) as watched_95_learners
    from learner_coverage
    group by courserun_id, video_block_id
)

, final as (
    select
        durations.courserun_id
        , durations.video_block_id
        , durations.video_title
        , durations.duration_seconds
        , durations.duration_source
        , coalesce(coverage_totals.users_at_start, 0) as users_at_start
        , case when durations.duration_seconds is not null then coalesce(coverage_totals.users_at_end, 0) end
            as users_at_end
        , coalesce(viewing_totals.total_viewed_seconds, 0) as total_viewed_seconds
        , coalesce(coverage_totals.unique_viewers, 0) as unique_viewers
        , durations.play_count
        , coalesce(viewing_totals.viewing_count, 0) as viewing_count
        , case when durations.duration_seconds is not null then coalesce(coverage_totals.watched_95_learners, 0) end
            as watched_95_learners
    from durations
    left join viewing_totals
        on
            durations.courserun_id = viewing_totals.courserun_id
            and durations.video_block_id = viewing_totals.video_block_id
    left join coverage_totals
        on
            durations.courserun_id = coverage_totals.courserun_id
            and durations.video_block_id = coverage_totals.video_block_id
)

select * from final
