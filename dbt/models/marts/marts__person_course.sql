-- The person-course table (HarvardX/MITx edx2bigquery): one row per learner and course run the
-- learner enrolled in or acted in, with the edx2bigquery flags, engagement totals, the segment
-- (relative to the last day of landed events) and demographics. Definitions in the YAML.
with enrollments as (
    select * from {{ ref('marts__enrollments') }}
)

, activity as (
    select * from {{ ref('marts__learner_activity_daily') }}
)

, viewings as (
    select * from {{ ref('int__tracking__video_viewings') }}
)

, checks as (
    select * from {{ ref('int__tracking__problem_checks') }}
)

, modules as (
    select * from {{ ref('int__packages__studentmodule') }}
)

, forum_documents as (
    select * from {{ ref('stg__edxorg__s3__forum_documents') }}
)

, certificates as (
    select * from {{ ref('int__packages__certificates') }}
)

, visits as (
    select * from {{ ref('int__learner_block_visits') }}
)

, course_runs as (
    select * from {{ ref('marts__course_runs') }}
)

, learners as (
    select * from {{ ref('marts__learners') }}
)

, tracking_events as (
    select * from {{ ref('stg__edxorg__s3__tracking_logs') }}
)

, last_landed as (
    select max(useractivity_event_date) as last_event_date from tracking_events
)

, activity_totals as (
    select
        courserun_id
        , user_id
        , max(user_username) as user_username
        , sum(event_count) as event_count
        , count_if(event_count > 0) as active_days
        , min(first_event_at) as first_event_at
        , max(last_event_at) as last_event_at
        , sum(video_play_count) as video_play_count
        , sum(problem_check_count) as problem_check_count
        , sum(forum_post_count) as forum_post_count
        , sum(time_on_site_seconds) as time_on_site_seconds
    from activity
    group by courserun_id, user_id
)

, videos_viewed as (
    select courserun_id, user_id, count(distinct video_block_id) as videos_viewed
    from viewings
    group by courserun_id, user_id
)

, problems_from_events as (
    select courserun_id, user_id, count(distinct problem_block_id) as problems_attempted
    from checks
    group by courserun_id, user_id
)

, problems_from_modules as (
    select courserun_id, user_id, count_if(block_type = 'problem' and problem_attempts > 0) as problems_attempted
    from modules
    group by courserun_id, user_id
)

, forum_from_packages as (
    select courserun_id, user_id, count(distinct forumdocument_id) as forum_post_count
    from forum_documents
    where user_id is not null and courserun_id is not null
    group by courserun_id, user_id
)

, chapters_visited as (
    select courserun_id, user_id, count(distinct chapter_block_id) as chapters_visited
    from visits
    where chapter_block_id is not null
    group by courserun_id, user_id
)

, people as (
    select courserun_id, user_id from enrollments
    union
    select courserun_id, user_id from activity_totals
    union
    select courserun_id, user_id from certificates
)

, combined as (
    select
        people.courserun_id
        , people.user_id
        , coalesce(learners.user_username, activity_totals.user_username) as user_username
        , enrollments.user_id is not null as registered
        , coalesce(chapters_visited.chapters_visited, 0) as chapters_visited
        , course_runs.chapter_count
        , course_runs.courserun_passing_grade
        , course_runs.courserun_start_on
        , certificates.certificate_status
        , certificates.certificate_grade as grade
        , enrollments.enrollment_mode
        , enrollments.enrollment_is_active
        , coalesce(activity_totals.event_count, 0) as event_count
        , coalesce(activity_totals.active_days, 0) as active_days
        , activity_totals.first_event_at
        , activity_totals.last_event_at
        , coalesce(activity_totals.video_play_count, 0) as video_play_count
        , coalesce(videos_viewed.videos_viewed, 0) as videos_viewed
        , coalesce(problems_from_events.problems_attempted, problems_from_modules.problems_attempted, 0)
            as problems_attempted
        , coalesce(nullif(activity_totals.forum_post_count, 0), forum_from_packages.forum_post_count, 0)
            as forum_post_count
        , coalesce(activity_totals.time_on_site_seconds, 0) as time_on_site_seconds
        , last_landed.last_event_date
        , learners.user_gender
        , learners.user_year_of_birth
        , learners.user_education_group
        , learners.user_country
    from people
    cross join last_landed
    left join enrollments
        on people.courserun_id = enrollments.courserun_id and people.user_id = enrollments.user_id
    left join activity_totals
        on people.courserun_id = activity_totals.courserun_id and people.user_id = activity_totals.user_id
    left join videos_viewed
        on people.courserun_id = videos_viewed.courserun_id and people.user_id = videos_viewed.user_id
    left join problems_from_events
        on people.courserun_id = problems_from_events.courserun_id and people.user_id = problems_from_events.user_id
    left join problems_from_modules
        on people.courserun_id = problems_from_modules.courserun_id and people.user_id = problems_from_modules.user_id
    left join forum_from_packages
        on people.courserun_id = forum_from_packages.courserun_id and people.user_id = forum_from_packages.user_id
    left join chapters_visited
        on people.courserun_id = chapters_visited.courserun_id and people.user_id = chapters_visited.user_id
    left join certificates
        on people.courserun_id = certificates.courserun_id and people.user_id = certificates.user_id
    left join course_runs
        on people.courserun_id = course_runs.courserun_id
    left join learners
        on people.user_id = learners.user_id
)

, flagged as (
    select
        *
        , chapters_visited > 0 as viewed
        , chapter_count > 0 and chapters_visited >= chapter_count / 2.0 as explored
        , coalesce(certificate_status = 'downloadable', false) as certified
        , coalesce(certificate_status = 'downloadable', false)
        or coalesce(grade >= courserun_passing_grade, false) as completed
        , datediff(last_event_date, to_date(to_timestamp(last_event_at))) as days_since_last_event
        , year(coalesce(to_timestamp(courserun_start_on), to_timestamp(first_event_at))) - user_year_of_birth
            as age_at_start
    from combined
)

, final as (
    select
        courserun_id
        , user_id
        , user_username
        , registered
        , viewed
        , coalesce(explored, false) as explored
        , certified
        , completed
        , grade
        , certificate_status
        , enrollment_mode
        , enrollment_is_active
        , event_count
        , active_days
        , first_event_at
        , last_event_at
        , video_play_count
        , videos_viewed
        , problems_attempted
        , forum_post_count
        , time_on_site_seconds
        , chapters_visited
        , case
            when last_event_date is null then null
            when days_since_last_event < {{ var('marts_active_days', 7) }} then 'active'
            when days_since_last_event is null or days_since_last_event >= {{ var('marts_inactive_days', 14) }}
                then 'inactive'
            when coalesce(enrollment_is_active, false) and not completed then 'at_risk'
            else 'inactive'
        end as segment
        , coalesce(user_gender, 'unknown') as user_gender
        , user_year_of_birth
        , case
            when age_at_start is null then 'unknown'
            when age_at_start <= 25 then '25_and_under'
            when age_at_start <= 40 then '26_40'
            else '41_and_over'
        end as age_band
        , coalesce(user_education_group, 'unknown') as user_education_group
        , user_country
    from flagged
)

select * from final
