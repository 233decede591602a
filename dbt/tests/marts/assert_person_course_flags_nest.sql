-- edx2bigquery's flags nest: explored learners viewed, certified learners completed, and a
-- learner who viewed visited at least one chapter.
with people as (
    select * from {{ ref('marts__person_course') }}
)

, broken as (
    select *
    from people
    where
        (explored and not viewed)
        or (certified and not completed)
        or (viewed and chapters_visited = 0)
)

select * from broken
