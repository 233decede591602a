{{ config(severity='warn') }}

-- A fact of the source, not an error: events whose course run has no archive and no package
-- course_structure landed (a course not exported, a mistyped id). Their activity still counts
-- in the activity marts; this lists the course ids and how many learner-days they hold.
with activity as (
    select * from {{ ref('marts__learner_activity_daily') }}
)

, course_runs as (
    select * from {{ ref('marts__course_runs') }}
)

, unknown as (
    select
        activity.courserun_id
        , count(*) as learner_days
    from activity
    left anti join course_runs
        on activity.courserun_id = course_runs.courserun_id
    group by activity.courserun_id
)

select * from unknown
