-- Insights: every learner who played a video, attempted a problem or posted in a week was
-- active that week, so no activity counts more learners than ACTIVE.
with weekly as (
    select * from {{ ref('marts__course_activity_weekly') }}
)

, active as (
    select courserun_id, week_start_date, learner_count
    from weekly
    where activity = 'ACTIVE'
)

, broken as (
    select weekly.*
    from weekly
    left join active
        on
            weekly.courserun_id = active.courserun_id
            and weekly.week_start_date = active.week_start_date
    where weekly.learner_count > coalesce(active.learner_count, 0)
)

select * from broken
