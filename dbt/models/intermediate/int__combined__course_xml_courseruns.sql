-- One row per course run (latest version): the course block's settings as typed columns, and the
-- passing grade (the lowest of grading_policy.json's GRADE_CUTOFFS). Content libraries (no
-- course block) are not course runs and are left out.
with latest_versions as (
    select * from {{ ref('int__combined__course_xml_latest_versions') }}
)

, blocks as (
    select * from {{ ref('int__combined__course_xml_blocks') }}
)

, policies as (
    select * from {{ ref('int__combined__course_xml_policies') }}
)

, course_blocks as (
    select *
    from blocks
    where
        coursestructure_block_type = 'course'
        and not coursestructure_block_is_draft
)

, grade_cutoffs as (
    select
        platform
        , coursepolicy_archive_sha256
        , array_min(
            map_values(from_json(coursepolicy_value_json, 'map<string, double>'))
        ) as courserun_passing_grade
    from policies
    where
        coursepolicy_policy_key = 'GRADE_CUTOFFS'
        and coursepolicy_file like '%grading_policy.json'
)

, courseruns as (
    select
        latest_versions.platform
        , latest_versions.courserun_id
        , course_blocks.coursestructure_block_title as courserun_title
        , latest_versions.courserun_org
        , latest_versions.courserun_course_number
        , latest_versions.courserun_run_tag
        , course_blocks.coursestructure_block_start_on as courserun_start_on
        , {{ olx_setting_timestamp('course_blocks.coursestructure_block_settings', 'end') }} as courserun_end_on
        , {{ olx_setting_timestamp('course_blocks.coursestructure_block_settings', 'enrollment_start') }} as courserun_enrollment_start_on
        , {{ olx_setting_timestamp('course_blocks.coursestructure_block_settings', 'enrollment_end') }} as courserun_enrollment_end_on
        , coalesce(
            {{ olx_setting_boolean('course_blocks.coursestructure_block_settings', 'self_paced') }}, false
        ) as courserun_is_self_paced
        , case
            when {{ olx_setting_boolean('course_blocks.coursestructure_block_settings', 'self_paced') }}
                then 'self_paced'
            else 'instructor_paced'
        end as courserun_pacing
        , {{ olx_setting_string('course_blocks.coursestructure_block_settings', 'language') }} as courserun_language
        , {{ olx_setting_boolean('course_blocks.coursestructure_block_settings', 'invitation_only') }} as courserun_is_invitation_only
        , {{ olx_setting_string('course_blocks.coursestructure_block_settings', 'catalog_visibility') }} as courserun_catalog_visibility
        , {{ olx_setting_string('course_blocks.coursestructure_block_settings', 'course_image') }} as courserun_image
        , {{ olx_setting_string('course_blocks.coursestructure_block_settings', 'certificates_display_behavior') }} as courserun_certificates_display_behavior
        , {{ olx_setting_timestamp('course_blocks.coursestructure_block_settings', 'certificate_available_date') }} as courserun_certificate_available_on
        , grade_cutoffs.courserun_passing_grade
        , course_blocks.coursestructure_block_id as courserun_course_block_id
        , latest_versions.courserun_course_version
        , latest_versions.courserun_version_count
        , latest_versions.coursearchive_sha256
        , latest_versions.coursearchive_source_system
        , latest_versions.coursearchive_block_count
        , latest_versions.coursearchive_retrieved_at
    from latest_versions
    inner join course_blocks
        on
            latest_versions.platform = course_blocks.platform
            and latest_versions.coursearchive_sha256 = course_blocks.coursestructure_archive_sha256
    left join grade_cutoffs
        on
            latest_versions.platform = grade_cutoffs.platform
            and latest_versions.coursearchive_sha256 = grade_cutoffs.coursepolicy_archive_sha256
)

select * from courseruns
