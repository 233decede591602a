-- One row per learner per platform: the packages' latest auth_user and auth_userprofile
-- (int__packages__learner_profiles, demographics decoded by edX Insights' rules), and the
-- learners seen only in tracking log events (demographics unknown).
with profiles as (
    select * from {{ ref('int__packages__learner_profiles') }}
)

, events as (
    select * from {{ ref('int__tracking__course_events') }}
)

, event_learners as (
    select
        user_id
        , max(user_username) as user_username
    from events
    group by user_id
)

, final as (
    select
        'edxorg' as platform
        , coalesce(profiles.user_id, event_learners.user_id) as user_id
        , coalesce(profiles.user_username, event_learners.user_username) as user_username
        , coalesce(profiles.user_gender, 'unknown') as user_gender
        , profiles.user_year_of_birth
        , profiles.user_level_of_education
        , coalesce(profiles.user_education_label, 'unknown') as user_education_label
        , coalesce(profiles.user_education_group, 'unknown') as user_education_group
        , profiles.user_country
        , profiles.user_joined_on
        , profiles.user_is_staff
        , case when profiles.user_id is not null then 'package' else 'tracking_logs' end as user_source
    from profiles
    full outer join event_learners
        on profiles.user_id = event_learners.user_id
)

select * from final
