-- The program office's general report: one row per course run with registered learners
-- (marts__person_course), what they did and how they did, and who they are.
with people as (
    select * from {{ ref('marts__person_course') }}
    where registered
)

, course_runs as (
    select * from {{ ref('marts__course_runs') }}
)

, counts as (
    select
        courserun_id
        , count(*) as enrolled_learners
        , count_if(event_count > 0) as active_learners
        , count_if(viewed) as viewed_learners
        , count_if(explored) as explored_learners
        , count_if(certified) as certified_learners
        , count_if(completed) as passing_learners
        , count_if(not completed and grade is not null) as failed_learners
        , count_if(enrollment_mode = 'verified') as verified_learners
        , count_if(user_gender = 'm') as male_learners
        , count_if(user_gender = 'f') as female_learners
        , count_if(user_gender = 'o') as other_gender_learners
        , count_if(user_gender = 'unknown') as unknown_gender_learners
        , count(distinct user_country) as country_count
        , percentile(grade, 0.5) as median_grade
    from people
    group by courserun_id
)

, all_courses as (
    select courserun_id from course_runs
    union
    select courserun_id from counts
)

, final as (
    select
        all_courses.courserun_id
        , course_runs.courserun_title
        , coalesce(counts.enrolled_learners, 0) as enrolled_learners
        , coalesce(counts.active_learners, 0) as active_learners
        , coalesce(counts.viewed_learners, 0) as viewed_learners
        , coalesce(counts.explored_learners, 0) as explored_learners
        , coalesce(counts.certified_learners, 0) as certified_learners
        , coalesce(counts.passing_learners, 0) as passing_learners
        , coalesce(counts.failed_learners, 0) as failed_learners
        , coalesce(counts.verified_learners, 0) as verified_learners
        , counts.active_learners / nullif(counts.enrolled_learners, 0) as active_rate
        , counts.viewed_learners / nullif(counts.enrolled_learners, 0) as viewed_rate
        , counts.explored_learners / nullif(counts.enrolled_learners, 0) as explored_rate
        , counts.certified_learners / nullif(counts.enrolled_learners, 0) as certified_rate
        , counts.passing_learners / nullif(counts.enrolled_learners, 0) as passing_rate
        , coalesce(counts.male_learners, 0) as male_learners
        , coalesce(counts.female_learners, 0) as female_learners
        , coalesce(counts.other_gender_learners, 0) as other_gender_learners
        , coalesce(counts.unknown_gender_learners, 0) as unknown_gender_learners
        , coalesce(counts.country_count, 0) as country_count
        , counts.median_grade
    from all_courses
    left join course_runs
        on all_courses.courserun_id = course_runs.courserun_id
    left join counts
        on all_courses.courserun_id = counts.courserun_id
)

select * from final
