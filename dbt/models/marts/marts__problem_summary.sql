-- Per course run and problem: learners who attempted, correct at the first and the last check,
-- mean checks per learner and mean last score, from problem_check server events
-- (int__tracking__problem_checks). A course run with no such events takes the packages'
-- courseware_studentmodule instead (no history: the last state only).
with checks as (
    select * from {{ ref('int__tracking__problem_checks') }}
)

, modules as (
    select * from {{ ref('int__packages__studentmodule') }}
    where block_type = 'problem'
)

, blocks as (
    select * from {{ ref('int__course_blocks__ordered') }}
)

, per_learner as (
    select
        courserun_id
        , problem_block_id
        , user_id
        , max(problem_display_name) as problem_display_name
        , count(*) as check_count
        , bool_or(check_number = 1 and is_correct) as first_correct
        , bool_or(checks_after = 0 and is_correct) as last_correct
        , max(case when checks_after = 0 then grade / nullif(max_grade, 0) end) as last_score
    from checks
    group by courserun_id, problem_block_id, user_id
)

, from_events as (
    select
        courserun_id
        , problem_block_id
        , max(problem_display_name) as problem_display_name
        , count(*) as attempted_learners
        , count_if(first_correct) as first_attempt_correct_learners
        , count_if(last_correct) as last_attempt_correct_learners
        , avg(check_count) as mean_attempts
        , avg(last_score) as mean_score
        , 'events' as problem_summary_source
    from per_learner
    group by courserun_id, problem_block_id
)

, from_modules as (
    select
        courserun_id
        , block_id as problem_block_id
        , cast(null as string) as problem_display_name
        , count_if(coalesce(problem_attempts, 0) > 0) as attempted_learners
        , cast(null as bigint) as first_attempt_correct_learners
        , count_if(coalesce(problem_attempts, 0) > 0 and problem_max_grade > 0 and problem_grade >= problem_max_grade)
            as last_attempt_correct_learners
        , avg(case when problem_attempts > 0 then problem_attempts end) as mean_attempts
        , avg(case when problem_attempts > 0 then problem_grade / nullif(problem_max_grade, 0) end) as mean_score
        , 'studentmodule' as problem_summary_source
    from modules
    where courserun_id not in (select courserun_id from checks where courserun_id is not null)
    group by courserun_id, block_id
)

, summaries as (
    select * from from_events
    union all
    select * from from_modules
)

, final as (
    select
        summaries.courserun_id
        , summaries.problem_block_id
        , coalesce(blocks.block_title, summaries.problem_display_name) as problem_title
        , summaries.attempted_learners
        , summaries.first_attempt_correct_learners
        , summaries.last_attempt_correct_learners
        , cast(summaries.mean_attempts as double) as mean_attempts
        , cast(summaries.mean_score as double) as mean_score
        , summaries.problem_summary_source
    from summaries
    left join blocks
        on
            summaries.courserun_id = blocks.courserun_id
            and summaries.problem_block_id = blocks.block_id
)

select * from final
