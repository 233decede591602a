-- edX Insights answer_distribution: per problem, part (answer id) and answer value, the
-- learners whose first / last answer to the part it was, from the `submission` of problem_check
-- server events. A multiple-answer response (a JSON list) is one value, its choices joined
-- with `|`.
with checks as (
    select * from {{ ref('int__tracking__problem_checks') }}
)

, parts as (
    select
        checks.courserun_id
        , checks.problem_block_id
        , checks.user_id
        , checks.event_at
        , checks.file_sha256
        , checks.line_number
        , submitted.part_id
        , submitted.part.question as question_text
        , case
            when submitted.part.answer like '[%'
                then array_join(from_json(submitted.part.answer, 'array<string>'), '|')
            else submitted.part.answer
        end as answer_value
        , submitted.part.correct as is_correct
    from checks
    lateral view explode(checks.submission) submitted as part_id, part
)

, ordered as (
    select
        *
        , row_number() over (
            partition by courserun_id, problem_block_id, part_id, user_id
            order by event_at, file_sha256, line_number
        ) as answer_number
        , row_number() over (
            partition by courserun_id, problem_block_id, part_id, user_id
            order by event_at desc, file_sha256 desc, line_number desc
        ) as answers_from_last
    from parts
)

, distribution as (
    select
        courserun_id
        , problem_block_id
        , part_id
        , answer_value
        , coalesce(is_correct, false) as is_correct
        , max(question_text) as question_text
        , count_if(answer_number = 1) as first_response_count
        , count_if(answers_from_last = 1) as last_response_count
    from ordered
    group by courserun_id, problem_block_id, part_id, answer_value, coalesce(is_correct, false)
)

, final as (
    select
        courserun_id
        , problem_block_id
        , part_id
        , answer_value
        , question_text
        , is_correct
        , first_response_count
        , last_response_count
    from distribution
)

select * from final
