-- The grading policy of each course run (latest version), one row per assignment type: the
-- `GRADER` list of policies/{run}/grading_policy.json, exploded.
with latest_versions as (
    select * from {{ ref('int__combined__course_xml_latest_versions') }}
)

, policies as (
    select * from {{ ref('int__combined__course_xml_policies') }}
)

, graders as (
    select
        policies.platform
        , policies.courserun_id
        , policies.coursepolicy_archive_sha256
        , policies.coursepolicy_value_json
    from policies
    inner join latest_versions
        on
            policies.platform = latest_versions.platform
            and policies.coursepolicy_archive_sha256 = latest_versions.coursearchive_sha256
    where
        policies.coursepolicy_policy_key = 'GRADER'
        and policies.coursepolicy_file like '%grading_policy.json'
)

, exploded as (
    select
        platform
        , courserun_id
        , coursepolicy_archive_sha256
        , posexplode(
            -- numbers are read as their JSON text and cast below, so "0.15" and 0.15 both work
            from_json(
                coursepolicy_value_json
                , 'array<struct<type:string, short_label:string, min_count:string, drop_count:string, weight:string>>'
            )
        ) as (grading_policy_position, assignment)
    from graders
)

, grading_policy as (
    select
        platform
        , courserun_id
        , grading_policy_position
        , assignment.type as grading_policy_assignment_type
        , assignment.short_label as grading_policy_short_label
        , try_cast(assignment.min_count as int) as grading_policy_min_count
        , try_cast(assignment.drop_count as int) as grading_policy_drop_count
        , try_cast(assignment.weight as double) as grading_policy_weight
        , coursepolicy_archive_sha256 as coursearchive_sha256
    from exploded
)

select * from grading_policy
