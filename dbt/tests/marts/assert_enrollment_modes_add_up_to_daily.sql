-- Insights: a learner counts in exactly one mode at the end of a day, so the modes' enrolled
-- counts add up to the day's enrolled count. Rows returned are days where they do not.
with daily as (
    select * from {{ ref('marts__enrollment_daily') }}
)

, by_mode as (
    select
        courserun_id
        , enrollment_date
        , sum(enrolled_count) as enrolled_count
    from {{ ref('marts__enrollment_mode_daily') }}
    group by courserun_id, enrollment_date
)

, mismatched as (
    select
        daily.courserun_id
        , daily.enrollment_date
        , daily.enrolled_count
        , by_mode.enrolled_count as mode_total
    from daily
    left join by_mode
        on
            daily.courserun_id = by_mode.courserun_id
            and daily.enrollment_date = by_mode.enrollment_date
    where not (daily.enrolled_count <=> by_mode.enrolled_count)
)

select * from mismatched
