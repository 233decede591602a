{{
    config(
        tags=['tracking_logs']
    )
}}

-- Enrollment events (edx.course.enrollment.activated / deactivated / mode_changed), one row per
-- event, with the learner and course run the payload names (an enrollment made by staff for a
-- learner carries the learner's id in the payload, the staff member's in the context) and the
-- state the learner is in after it: enrolled or not, and the mode.
with events as (
    select * from {{ ref('int__tracking__course_events') }}
    where event_name in (
        'edx.course.enrollment.activated'
        , 'edx.course.enrollment.deactivated'
        , 'edx.course.enrollment.mode_changed'
    )
)

, changes as (
    select
        coalesce(get_json_object(event_json, '$.course_id'), courserun_id) as courserun_id
        , coalesce(try_cast(get_json_object(event_json, '$.user_id') as bigint), user_id) as user_id
        , event_at
        , event_timestamp
        , event_date
        , regexp_extract(event_name, '[.]([a-z_]+)$', 1) as enrollment_action
        , coalesce(nullif(get_json_object(event_json, '$.mode'), ''), 'unknown') as enrollment_mode
        , case
            when event_name = 'edx.course.enrollment.activated' then true
            when event_name = 'edx.course.enrollment.deactivated' then false
        end as sets_enrolled
        , file_sha256
        , line_number
        , retrieved_at
    from events
)

-- A mode change changes the mode only (Insights' enrollment state machine): the learner stays
-- enrolled or unenrolled as the last activation or deactivation before it left them. A mode
-- change with none before it (the logs start after the enrollment) is a change of an existing
-- enrollment: enrolled.
, with_state as (
    select
        courserun_id
        , user_id
        , event_at
        , event_timestamp
        , event_date
        , enrollment_action
        , enrollment_mode
        , coalesce(
            last_value(sets_enrolled, true) over (
                partition by courserun_id, user_id
                order by event_at, file_sha256, line_number
                rows between unbounded preceding and current row
            )
            , true
        ) as is_enrolled_after
        , file_sha256
        , line_number
        , retrieved_at
    from changes
    where user_id is not null
)

select * from with_state
