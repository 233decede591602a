-- Learners enrolled at the end of a day are at most the learners ever enrolled, never
-- negative, and the cumulative count never falls from one day to the next.
with daily as (
    select
        *
        , lag(cumulative_count) over (partition by courserun_id order by enrollment_date) as previous_cumulative
    from {{ ref('marts__enrollment_daily') }}
)

, broken as (
    select *
    from daily
    where
        enrolled_count < 0
        or enrolled_count > cumulative_count
        or cumulative_count < previous_cumulative
)

select * from broken
