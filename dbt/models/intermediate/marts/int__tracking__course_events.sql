{{
    config(
        materialized='view',
        tags=['tracking_logs']
    )
}}

-- Tracking log events that name a course run, one row per event, with the learner resolved
-- (the event's user id, else the packages' id for its username, else for an enrollment event
-- the payload's learner), the instant as a timestamp,
-- and the flags the marts count by. Definitions (edx-analytics-pipeline, UserActivityTask):
-- activity = any course event that is not from a background task (`event_source` task) and
-- not an enrollment event; a video play is play_video from the browser or the mobile app
-- (edx.video.played by its event-bus name); a problem attempt is problem_check from the
-- server; a forum post is edx.forum.{thread,response,comment}.created from the server.
-- Navigation: sequence and outline navigation (seq_goto/next/prev, edx.ui.lms.*) and the
-- courseware page views the LMS logs as implicit events (`/courses/.../courseware/...`).
with events as (
    select * from {{ ref('stg__edxorg__s3__tracking_logs') }}
    where courserun_id is not null
)

, learners as (
    select * from {{ ref('int__packages__learner_profiles') }}
    where user_username is not null
)

, usernames as (
    select
        user_username
        , min(user_id) as user_id
        , min(user_first_retrieved_at) as user_first_retrieved_at
    from learners
    group by user_username
)

, resolved as (
    select
        events.courserun_id
        -- the actor; an enrollment event with none (made by a server process) keeps the
        -- learner its payload names, so int__tracking__enrollment_changes sees it
        , coalesce(
            events.user_id
            , usernames.user_id
            , case
                when events.useractivity_event_type like 'edx.course.enrollment.%'
                    or events.useractivity_event_name like 'edx.course.enrollment.%'
                    then try_cast(get_json_object(events.useractivity_event_json, '$.user_id') as bigint)
            end
        ) as user_id
        , nullif(events.user_username, '') as user_username  -- server processes log ''
        , events.useractivity_event_name as event_name
        , events.useractivity_event_type as event_type
        , events.useractivity_event_source as event_source
        , to_timestamp(events.useractivity_timestamp) as event_at
        , events.useractivity_timestamp as event_timestamp
        , coalesce(events.useractivity_event_date, to_date(to_timestamp(events.useractivity_timestamp)))
            as event_date
        , events.useractivity_event_json as event_json
        , events.useractivity_context_json as context_json
        , events.useractivity_page_url as page_url
        , events.useractivity_file_sha256 as file_sha256
        , events.useractivity_line_number as line_number
        , events.useractivity_retrieved_at as retrieved_at
        -- when the learner of an event that names them by username only became known (a
        -- package landed after the log): the incremental marts recompute its day then
        , case when events.user_id is null then usernames.user_first_retrieved_at end
            as user_resolved_at
    from events
    left join usernames
        on
            events.user_id is null
            and events.user_username = usernames.user_username
)

, flagged as (
    select
        *
        , event_source != 'task'
        and not (event_type like 'edx.course.enrollment.%' or event_name like 'edx.course.enrollment.%')
            as is_activity
        , event_source in ('browser', 'mobile')
        and (event_type = 'play_video' or event_name in ('play_video', 'edx.video.played'))
            as is_video_play
        , event_source = 'server' and event_type = 'problem_check' as is_problem_check
        , event_source = 'server' and event_type rlike '^edx[.]forum[.](thread|response|comment)[.]created$'
            as is_forum_post
        , event_name in ('seq_goto', 'seq_next', 'seq_prev', 'page_close')
        or event_name like 'edx.ui.lms.%'
        or event_type rlike '^/courses/[^/]+/courseware(/|$)'
            as is_navigation
    from (
        select
            * except (event_name, event_type, event_source)
            , coalesce(event_name, '') as event_name
            , coalesce(event_type, '') as event_type
            , coalesce(event_source, '') as event_source
        from resolved
    ) as resolved
    where user_id is not null
)

select * from flagged
