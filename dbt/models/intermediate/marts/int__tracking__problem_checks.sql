{{
    config(
        tags=['tracking_logs']
    )
}}

-- Graded problem submissions: problem_check events from the server, one row per event, with
-- the problem, the learner's attempt number, correctness, grade, and the submission per part
-- (answer id -> question, answer, correct). Each learner's checks of a problem are numbered in
-- time order (`check_number`, 1 = first; `checks_after` = 0 for the last).
with events as (
    select * from {{ ref('int__tracking__course_events') }}
    where is_problem_check
)

, checks as (
    select
        courserun_id
        , user_id
        , event_at
        , file_sha256
        , line_number
        , coalesce(
            nullif(get_json_object(event_json, '$.problem_id'), '')
            , get_json_object(context_json, '$.module.usage_key')
        ) as problem_block_id
        , get_json_object(context_json, '$.module.display_name') as problem_display_name
        , try_cast(get_json_object(event_json, '$.attempts') as int) as attempt_number
        , get_json_object(event_json, '$.success') = 'correct' as is_correct
        , try_cast(get_json_object(event_json, '$.grade') as double) as grade
        , try_cast(get_json_object(event_json, '$.max_grade') as double) as max_grade
        , from_json(
            get_json_object(event_json, '$.submission')
            , 'map<string, struct<question: string, answer: string, correct: boolean, response_type: string>>'
        ) as submission
    from events
)

, numbered as (
    select
        *
        , row_number() over (
            partition by courserun_id, user_id, problem_block_id
            order by event_at, file_sha256, line_number
        ) as check_number
        , row_number() over (
            partition by courserun_id, user_id, problem_block_id
            order by event_at desc, file_sha256 desc, line_number desc
        ) - 1 as checks_after
    from checks
    where problem_block_id is not null
)

select * from numbered
