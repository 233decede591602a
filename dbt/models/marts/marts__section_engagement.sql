-- Per course run, section and subsection in course order: the share of the course's enrolled
-- learners (marts__enrollments) who viewed a page there, attempted a problem there, played a
-- video there (int__learner_block_visits). A section row counts a learner once over all its
-- subsections. Only enrolled learners count (a visitor with no enrollment, e.g. one seen only
-- in the logs, is in marts__person_course, not here), so a share is never above 1.
with blocks as (
    select * from {{ ref('int__course_blocks__ordered') }}
    where block_type in ('chapter', 'sequential')
)

, visits as (
    select * from {{ ref('int__learner_block_visits') }}
)

, enrollments as (
    select * from {{ ref('marts__enrollments') }}
)

, enrolled as (
    select
        courserun_id
        , count(*) as enrolled_learners
    from enrollments
    group by courserun_id
)

, visits_by_section as (
    select
        visits.courserun_id
        , visits.user_id
        , visits.visit_kind
        , stack(2, 'chapter', visits.chapter_block_id, 'sequential', visits.sequential_block_id)
            as (section_level, section_block_id)
    from visits
    left semi join enrollments
        on
            visits.courserun_id = enrollments.courserun_id
            and visits.user_id = enrollments.user_id
)

, section_counts as (
    select
        courserun_id
        , section_block_id
        , count(distinct user_id) as viewed_learners
        , count(distinct case when visit_kind = 'problem' then user_id end) as attempted_learners
        , count(distinct case when visit_kind = 'video' then user_id end) as video_learners
    from visits_by_section
    where section_block_id is not null
    group by courserun_id, section_block_id
)

, final as (
    select
        blocks.courserun_id
        , blocks.block_type as section_level
        , blocks.block_id
        , blocks.block_title
        , blocks.chapter_block_id
        , blocks.course_order_index
        , coalesce(enrolled.enrolled_learners, 0) as enrolled_learners
        , coalesce(section_counts.viewed_learners, 0) as viewed_learners
        , coalesce(section_counts.attempted_learners, 0) as attempted_learners
        , coalesce(section_counts.video_learners, 0) as video_learners
        , coalesce(section_counts.viewed_learners, 0) / nullif(enrolled.enrolled_learners, 0) as viewed_share
        , coalesce(section_counts.attempted_learners, 0) / nullif(enrolled.enrolled_learners, 0) as attempted_share
        , coalesce(section_counts.video_learners, 0) / nullif(enrolled.enrolled_learners, 0) as video_share
    from blocks
    left join enrolled
        on blocks.courserun_id = enrolled.courserun_id
    left join section_counts
        on
            blocks.courserun_id = section_counts.courserun_id
            and blocks.block_id = section_counts.section_block_id
)

select * from final
