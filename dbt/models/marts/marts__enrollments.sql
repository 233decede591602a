-- Learner x course run: first enrolled, current mode and state, from enrollment events
-- (int__tracking__enrollment_changes) and the packages' student_courseenrollment
-- (int__packages__enrollments). The current state is the newer of the two: the package's
-- (as of the end of its package date) unless an enrollment event came later.
with changes as (
    select * from {{ ref('int__tracking__enrollment_changes') }}
)

, package_enrollments as (
    select * from {{ ref('int__packages__enrollments') }}
)

, ordered_changes as (
    select
        *
        , row_number() over (
            partition by courserun_id, user_id
            order by event_at desc, file_sha256 desc, line_number desc
        ) as recency_rank
        , lag(enrollment_mode) over (
            partition by courserun_id, user_id
            order by event_at, file_sha256, line_number
        ) as previous_mode
    from changes
)

, from_events as (
    select
        courserun_id
        , user_id
        , min(case when enrollment_action = 'activated' then event_at end) as first_enrolled_at
        , max(case when recency_rank = 1 then enrollment_mode end) as last_mode
        , max(case when recency_rank = 1 then cast(is_enrolled_after as int) end) = 1 as last_is_enrolled
        , max(event_at) as last_event_at
        , bool_or(enrollment_action = 'deactivated') as has_deactivated
        , min(
            case
                when enrollment_mode = 'verified' and previous_mode is not null and previous_mode != 'verified'
                    then event_at
            end
        ) as upgraded_at
    from ordered_changes
    group by courserun_id, user_id
)

, combined as (
    select
        coalesce(from_events.courserun_id, package_enrollments.courserun_id) as courserun_id
        , coalesce(from_events.user_id, package_enrollments.user_id) as user_id
        , least(from_events.first_enrolled_at, to_timestamp(package_enrollments.enrollment_created_on))
            as first_enrolled_at
        , case
            when package_enrollments.user_id is null then 'events'
            when from_events.user_id is null then 'package'
            else 'both'
        end as enrollment_source
        -- the package is the state at the end of its date; a later event supersedes it
        , package_enrollments.user_id is null
        or (
            from_events.user_id is not null
            and from_events.last_event_at >= to_timestamp(date_add(package_enrollments.enrollment_package_date, 1))
        ) as events_are_newer
        , from_events.last_mode
        , from_events.last_is_enrolled
        , from_events.has_deactivated
        , from_events.upgraded_at
        , package_enrollments.enrollment_mode as package_mode
        , package_enrollments.enrollment_is_active as package_is_active
    from from_events
    full outer join package_enrollments
        on
            from_events.courserun_id = package_enrollments.courserun_id
            and from_events.user_id = package_enrollments.user_id
)

, final as (
    select
        courserun_id
        , user_id
        , {{ cast_timestamp_to_iso8601('first_enrolled_at') }} as enrollment_first_enrolled_on
        , case when events_are_newer then last_mode else package_mode end as enrollment_mode
        , coalesce(case when events_are_newer then last_is_enrolled else package_is_active end, false)
            as enrollment_is_active
        , coalesce(has_deactivated, false) or coalesce(not package_is_active, false) as enrollment_has_unenrolled
        , upgraded_at is not null
        or (case when events_are_newer then last_mode else package_mode end) = 'verified'
            as enrollment_is_upgraded
        , {{ cast_timestamp_to_iso8601('upgraded_at') }} as enrollment_upgraded_on
        , enrollment_source
    from combined
)

select * from final
