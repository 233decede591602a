{{
    config(
        tags=['tracking_logs']
    )
}}

-- edX Insights video_timeline: per video and 5-second segment, the learners who viewed part of
-- it and the viewings that covered it (a viewing from s to e covers segments floor(s/5) to
-- floor(e/5)).
with viewings as (
    select * from {{ ref('int__tracking__video_viewings') }}
)

, covered as (
    select
        courserun_id
        , video_block_id
        , user_id
        , explode(sequence(
            cast(floor(start_offset / {{ var('marts_video_segment_seconds', 5) }}) as int)
            , cast(floor(end_offset / {{ var('marts_video_segment_seconds', 5) }}) as int)
        )) as segment
    from viewings
)

, timeline as (
    select
        courserun_id
        , video_block_id
        , segment
        , count(distinct user_id) as num_users
        , count(*) as num_views
    from covered
    group by courserun_id, video_block_id, segment
)

select * from timeline
