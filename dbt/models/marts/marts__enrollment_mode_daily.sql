-- edX Insights course_enrollment_mode_daily: as marts__enrollment_daily, per mode. A learner
-- counts in the mode they hold at the end of the day; a change of state or mode moves them out
-- of the old mode and into the new one. `cumulative_count`: learners who held the mode
-- (enrolled) on some day up to this one.
with enrollment_days as (
    select * from {{ ref('int__tracking__enrollment_days') }}
)

, course_events as (
    select * from {{ ref('stg__edxorg__s3__tracking_logs') }}
)

, package_enrollments as (
    select * from {{ ref('int__packages__enrollments') }}
)

, last_landed as (
    select max(useractivity_event_date) as last_event_date from course_events
)

, moves as (
    -- out of the mode held before, into the mode held after
    select courserun_id, enrollment_date, previous_mode as enrollment_mode, -1 as delta
    from enrollment_days
    where was_enrolled and previous_mode is not null
    union all
    select courserun_id, enrollment_date, enrollment_mode, 1 as delta
    from enrollment_days
    where is_enrolled
)

, deltas as (
    select
        courserun_id
        , enrollment_date
        , enrollment_mode
        , sum(delta) as enrolled_delta
    from moves
    group by courserun_id, enrollment_date, enrollment_mode
)

, first_holds as (
    select
        courserun_id
        , enrollment_date
        , enrollment_mode
        , count(*) as new_learners
    from (
        select courserun_id, user_id, enrollment_mode, min(enrollment_date) as enrollment_date
        from enrollment_days
        where is_enrolled
        group by courserun_id, user_id, enrollment_mode
    ) as firsts
    group by courserun_id, enrollment_date, enrollment_mode
)

, calendar as (
    select
        spans.courserun_id
        , modes.enrollment_mode
        , explode(sequence(spans.first_date, greatest(spans.first_date, last_landed.last_event_date))) as enrollment_date
    from (
        select courserun_id, min(enrollment_date) as first_date
        from enrollment_days
        group by courserun_id
    ) as spans
    inner join (
        select distinct courserun_id, enrollment_mode from enrollment_days
    ) as modes
        on spans.courserun_id = modes.courserun_id
    cross join last_landed
)

, from_events as (
    select
        calendar.courserun_id
        , calendar.enrollment_date
        , calendar.enrollment_mode
        , sum(coalesce(deltas.enrolled_delta, 0)) over (
            partition by calendar.courserun_id, calendar.enrollment_mode order by calendar.enrollment_date
            rows between unbounded preceding and current row
        ) as enrolled_count
        , sum(coalesce(first_holds.new_learners, 0)) over (
            partition by calendar.courserun_id, calendar.enrollment_mode order by calendar.enrollment_date
            rows between unbounded preceding and current row
        ) as cumulative_count
        , 'events' as enrollment_source
    from calendar
    left join deltas
        on
            calendar.courserun_id = deltas.courserun_id
            and calendar.enrollment_date = deltas.enrollment_date
            and calendar.enrollment_mode = deltas.enrollment_mode
    left join first_holds
        on
            calendar.courserun_id = first_holds.courserun_id
            and calendar.enrollment_date = first_holds.enrollment_date
            and calendar.enrollment_mode = first_holds.enrollment_mode
)

, from_package as (
    -- one date per course run (its newest package), as in marts__enrollment_daily, so the
    -- modes of a day add up to the day's enrollment
    select
        courserun_id
        , max(max(enrollment_package_date)) over (partition by courserun_id) as enrollment_date
        , coalesce(enrollment_mode, 'unknown') as enrollment_mode
        , count_if(enrollment_is_active) as enrolled_count
        , count(*) as cumulative_count
        , 'package' as enrollment_source
    from package_enrollments
    where courserun_id not in (
        select courserun_id from enrollment_days where courserun_id is not null
    )
    group by courserun_id, coalesce(enrollment_mode, 'unknown')
)

, final as (
    select
        courserun_id
        , enrollment_date
        , enrollment_mode
        , cast(enrolled_count as bigint) as enrolled_count
        , cast(cumulative_count as bigint) as cumulative_count
        , enrollment_source
    from from_events
    union all
    select
        courserun_id
        , enrollment_date
        , enrollment_mode
        , cast(enrolled_count as bigint) as enrolled_count
        , cast(cumulative_count as bigint) as cumulative_count
        , enrollment_source
    from from_package
)

select * from final
