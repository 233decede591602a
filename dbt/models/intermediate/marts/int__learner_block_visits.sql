-- Which blocks of a course each learner reached, one row per learner, block and kind of visit
-- (page, problem, video), resolved to the course's blocks (int__course_blocks__ordered) so each
-- visit has its section and subsection. From tracking events: a problem check (problem),
-- a video play (video), and as page visits sequence navigation (`id` = the subsection), outline
-- clicks and courseware page views (the chapter / subsection url_names of the URL), and any
-- event whose context names a block (context.module.usage_key); from the packages: every
-- courseware_studentmodule row (the LMS writes one when a learner first opens a block).
with events as (
    select * from {{ ref('int__tracking__course_events') }}
)

, checks as (
    select * from {{ ref('int__tracking__problem_checks') }}
)

, video_events as (
    select * from {{ ref('int__tracking__video_events') }}
)

, modules as (
    select * from {{ ref('int__packages__studentmodule') }}
)

, blocks as (
    select * from {{ ref('int__course_blocks__ordered') }}
)

, event_references as (
    -- one pass over the events, each giving up to four page references (null where the event
    -- names none): the subsection a sequence navigation went to (`id`), the block its context
    -- names (any activity), and the chapter and subsection url_names of a courseware URL
    select
        courserun_id
        , user_id
        , regexp_extract(
            coalesce(
                case when event_type like '/courses/%' then event_type end
                , get_json_object(event_json, '$.target_url')
                , page_url
            )
            , '/courseware/([^/?#]+)(/([^/?#]+))?'
            , 0
        ) as courseware_path
        , case
            when event_name in ('seq_goto', 'seq_next', 'seq_prev') or event_name like 'edx.ui.lms.sequence.%'
                then get_json_object(event_json, '$.id')
        end as navigated_block_ref
        , case when is_activity then get_json_object(context_json, '$.module.usage_key') end
            as context_block_ref
        , is_navigation
    from events
    where
        is_activity
        or is_navigation
        or event_name in ('seq_goto', 'seq_next', 'seq_prev')
        or event_name like 'edx.ui.lms.sequence.%'
)

, page_references as (
    select
        courserun_id
        , user_id
        , explode(array(
            navigated_block_ref
            , context_block_ref
            , case when is_navigation then regexp_extract(courseware_path, '/courseware/([^/?#]+)', 1) end
            , case when is_navigation then regexp_extract(courseware_path, '/courseware/[^/?#]+/([^/?#]+)', 1) end
        )) as block_ref
    from event_references
)

, block_references as (
    -- (learner, course, reference, kind): a reference is a usage key or a url_name
    select courserun_id, user_id, problem_block_id as block_ref, 'problem' as visit_kind
    from checks
    union all
    select courserun_id, user_id, video_block_id as block_ref, 'video' as visit_kind
    from video_events
    where video_action = 'play'
    union all
    select courserun_id, user_id, block_ref, 'page' as visit_kind
    from page_references
    union all
    select courserun_id, user_id, block_id as block_ref, 'page' as visit_kind
    from modules
)

, distinct_references as (
    select distinct courserun_id, user_id, block_ref, visit_kind
    from block_references
    where nullif(block_ref, '') is not null
)

, by_usage_key as (
    select
        distinct_references.courserun_id
        , distinct_references.user_id
        , distinct_references.visit_kind
        , blocks.block_id
    from distinct_references
    inner join blocks
        on
            distinct_references.courserun_id = blocks.courserun_id
            and distinct_references.block_ref = blocks.block_id
)

, by_url_name as (
    select
        distinct_references.courserun_id
        , distinct_references.user_id
        , distinct_references.visit_kind
        , blocks.block_id
    from distinct_references
    inner join blocks
        on
            distinct_references.courserun_id = blocks.courserun_id
            and distinct_references.block_ref = blocks.block_url_name
            and blocks.block_type in ('chapter', 'sequential')
    where distinct_references.block_ref not like '%@%'
)

, visits as (
    select distinct
        resolved.courserun_id
        , resolved.user_id
        , resolved.visit_kind
        , resolved.block_id
        , blocks.block_type
        , blocks.chapter_block_id
        , blocks.sequential_block_id
    from (
        select * from by_usage_key
        union all
        select * from by_url_name
    ) as resolved
    inner join blocks
        on
            resolved.courserun_id = blocks.courserun_id
            and resolved.block_id = blocks.block_id
)

select * from visits
