-- Insights' video figures: a segment's learners are at most its viewings; the learners at the
-- start or the end of a video, or who watched 95 %, are at most its unique viewers.
with timeline as (
    select * from {{ ref('marts__video_timeline') }}
)

, summary as (
    select * from {{ ref('marts__video_summary') }}
)

, broken as (
    select courserun_id, video_block_id, 'segment users > views' as problem
    from timeline
    where num_users > num_views
    union all
    select courserun_id, video_block_id, 'more than the unique viewers' as problem
    from summary
    where
        users_at_start > unique_viewers
        or coalesce(users_at_end, 0) > unique_viewers
        or coalesce(watched_95_learners, 0) > unique_viewers
)

select * from broken
