{{
    config(
        tags=['data_packages']
    )
}}

-- One row per learner (LMS user id) of the data packages: the newest auth_user row (by package
-- date, then when it was read) and the newest auth_userprofile row, whichever course's
-- package delivered them. Demographic codes are decoded here (edX Insights' rules, see
-- marts__learners).
with users as (
    select * from {{ ref('stg__edxorg__s3__tables__auth_user') }}
    where user_id is not null
)

, profiles as (
    select * from {{ ref('stg__edxorg__s3__tables__auth_userprofile') }}
    where user_id is not null
)

, latest_users as (
    select
        *
        , row_number() over (
            partition by user_id
            order by user_package_date desc, user_retrieved_at desc, user_file_uri desc, user_line_number desc
        ) as user_rank
        -- when this username first named this id (a renamed learner resolves anew)
        , min(user_retrieved_at) over (partition by user_id, user_username) as user_first_retrieved_at
    from users
)

, latest_profiles as (
    select
        *
        , row_number() over (
            partition by user_id
            order by userprofile_package_date desc, userprofile_retrieved_at desc, userprofile_file_uri desc, userprofile_line_number desc
        ) as profile_rank
    from profiles
)

, combined as (
    select
        coalesce(latest_users.user_id, latest_profiles.user_id) as user_id
        , latest_users.user_username
        , latest_users.user_joined_on
        , latest_users.user_is_staff
        , latest_users.user_first_retrieved_at
        , lower(trim(latest_profiles.user_gender)) as gender_code
        , case
            when latest_profiles.user_year_of_birth between 1900 and 2100
                then latest_profiles.user_year_of_birth
        end as user_year_of_birth
        , nullif(lower(trim(latest_profiles.user_level_of_education)), '') as user_level_of_education
        , nullif(upper(trim(latest_profiles.user_address_country)), '') as user_country
    from (select * from latest_users where user_rank = 1) as latest_users
    full outer join (select * from latest_profiles where profile_rank = 1) as latest_profiles
        on latest_users.user_id = latest_profiles.user_id
)

, decoded as (
    select
        user_id
        , user_username
        , case when gender_code in ('m', 'f', 'o') then gender_code else 'unknown' end as user_gender
        , user_year_of_birth
        , user_level_of_education
        , case user_level_of_education
            when 'el' then 'primary'
            when 'jhs' then 'junior_secondary'
            when 'hs' then 'secondary'
            when 'a' then 'associates'
            when 'b' then 'bachelors'
            when 'm' then 'masters'
            when 'p' then 'doctorate'
            when 'p_se' then 'doctorate'
            when 'p_oth' then 'doctorate'
            when 'none' then 'none'
            when 'other' then 'other'
            else 'unknown'
        end as user_education_label
        , user_country
        , user_joined_on
        , user_is_staff
        , user_first_retrieved_at
    from combined
)

, grouped as (
    select
        *
        , case
            when user_education_label in ('primary', 'junior_secondary', 'secondary', 'none')
                then 'high_school_or_less'
            when user_education_label in ('associates', 'bachelors') then 'college'
            when user_education_label in ('masters', 'doctorate') then 'advanced'
            else 'unknown'
        end as user_education_group
    from decoded
)

select * from grouped
