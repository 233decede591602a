{{
    config(
        tags=['tracking_logs']
    )
}}

-- Each learner's enrollment state at the end of each day on which it changed (the last
-- enrollment event of that day), with the state before, for the daily enrollment marts
-- (edX Insights counts a learner in the state and mode they hold at the end of the day).
with changes as (
    select * from {{ ref('int__tracking__enrollment_changes') }}
)

, last_of_day as (
    select
        courserun_id
        , user_id
        , event_date as enrollment_date
        , is_enrolled_after as is_enrolled
        , enrollment_mode
        , row_number() over (
            partition by courserun_id, user_id, event_date
            order by event_at desc, file_sha256 desc, line_number desc
        ) as day_rank
    from changes
)

, with_previous as (
    select
        courserun_id
        , user_id
        , enrollment_date
        , is_enrolled
        , enrollment_mode
        , coalesce(
            lag(is_enrolled) over (partition by courserun_id, user_id order by enrollment_date), false
        ) as was_enrolled
        , lag(enrollment_mode) over (partition by courserun_id, user_id order by enrollment_date)
            as previous_mode
    from last_of_day
    where day_rank = 1
)

select * from with_previous
