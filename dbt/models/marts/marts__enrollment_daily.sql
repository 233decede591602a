-- edX Insights course_enrollment_daily: learners enrolled at the end of each day and learners
-- ever enrolled up to it, per course run, from the first enrollment event to the last day of
-- landed events (days without an event carry the counts forward). Course runs with no
-- enrollment events but a data package: one row at the package date from its current state.
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

, deltas as (
    select
        courserun_id
        , enrollment_date
        , sum(cast(is_enrolled as int) - cast(was_enrolled as int)) as enrolled_delta
    from enrollment_days
    group by courserun_id, enrollment_date
)

, first_enrollments as (
    select
        courserun_id
        , enrollment_date
        , count(*) as new_learners
    from (
        select courserun_id, user_id, min(enrollment_date) as enrollment_date
        from enrollment_days
        where is_enrolled
        group by courserun_id, user_id
    ) as firsts
    group by courserun_id, enrollment_date
)

, calendar as (
    select
        spans.courserun_id
        , explode(sequence(spans.first_date, greatest(spans.first_date, last_landed.last_event_date))) as enrollment_date
    from (
        select courserun_id, min(enrollment_date) as first_date
        from enrollment_days
        group by courserun_id
    ) as spans
    cross join last_landed
)

, from_events as (
    select
        calendar.courserun_id
        , calendar.enrollment_date
        , sum(coalesce(deltas.enrolled_delta, 0)) over (
            partition by calendar.courserun_id order by calendar.enrollment_date
            rows between unbounded preceding and current row
        ) as enrolled_count
        , sum(coalesce(first_enrollments.new_learners, 0)) over (
            partition by calendar.courserun_id order by calendar.enrollment_date
            rows between unbounded preceding and current row
        ) as cumulative_count
        , 'events' as enrollment_source
    from calendar
    left join deltas
        on
            calendar.courserun_id = deltas.courserun_id
            and calendar.enrollment_date = deltas.enrollment_date
    left join first_enrollments
        on
            calendar.courserun_id = first_enrollments.courserun_id
            and calendar.enrollment_date = first_enrollments.enrollment_date
)

, from_package as (
    select
        courserun_id
        , max(enrollment_package_date) as enrollment_date
        , count_if(enrollment_is_active) as enrolled_count
        , count(*) as cumulative_count
        , 'package' as enrollment_source
    from package_enrollments
    where courserun_id not in (
        select courserun_id from enrollment_days where courserun_id is not null
    )
    group by courserun_id
)

, final as (
    select
        courserun_id
        , enrollment_date
        , cast(enrolled_count as bigint) as enrolled_count
        , cast(cumulative_count as bigint) as cumulative_count
        , enrollment_source
    from from_events
    union all
    select
        courserun_id
        , enrollment_date
        , cast(enrolled_count as bigint) as enrolled_count
        , cast(cumulative_count as bigint) as cumulative_count
        , enrollment_source
    from from_package
)

select * from final
