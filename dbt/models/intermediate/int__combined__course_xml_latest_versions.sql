-- The latest loaded version of each course run (by retrieved_at): one row per platform and
-- course run, with the archive that holds it and how many distinct versions were loaded.
with archives as (
    select * from {{ ref('int__combined__course_xml_archives') }}
)

, loaded as (
    select
        platform
        , courserun_id
        , courserun_org
        , courserun_course_number
        , courserun_run_tag
        , coursearchive_sha256
        , coursearchive_source_system
        , coursearchive_uri
        , coursearchive_course_version
        , coursearchive_block_count
        , coursearchive_error_count
        , coursearchive_retrieved_at
        , row_number() over (
            partition by platform, courserun_id
            order by coursearchive_retrieved_at desc, coursearchive_sha256
        ) as version_rank
        , size(
            collect_set(coursearchive_course_version) over (partition by platform, courserun_id)
        ) as courserun_version_count
        , min(coursearchive_retrieved_at) over (
            partition by platform, courserun_id
        ) as courserun_first_retrieved_at
    from archives
    where
        coursearchive_status = 'loaded'
        and courserun_id is not null
)

, latest as (
    select
        platform
        , courserun_id
        , courserun_org
        , courserun_course_number
        , courserun_run_tag
        , coursearchive_course_version as courserun_course_version
        , courserun_version_count
        , courserun_first_retrieved_at
        , coursearchive_sha256
        , coursearchive_source_system
        , coursearchive_uri
        , coursearchive_block_count
        , coursearchive_error_count
        , coursearchive_retrieved_at
    from loaded
    where version_rank = 1
)

select * from latest
