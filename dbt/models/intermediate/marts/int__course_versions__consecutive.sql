{{
    config(
        materialized='view'
    )
}}

-- Consecutive content versions of each course run: one row per pair (previous version -> next
-- version) of a platform's course run, for marts__course_block_changes. A course run's
-- versions are its loaded archives in retrieval order (retrieved_at, then archive sha256);
-- an archive whose course_version equals that of the archive loaded just before it is not a
-- new version (a re-export of unchanged content) and is skipped, so each run of equal
-- versions is represented by its first archive. A version that comes back later (v1, v2, v1)
-- is a change each time: v1 -> v2, then v2 -> v1.
-- A view (unlike its neighbours): a few rows per course run, read once by the incremental
-- change log, which is then as fresh as the archives ledger whatever a run selects.
with archives as (
    select * from {{ ref('int__combined__course_xml_archives') }}
)

, loaded as (
    select
        platform
        , courserun_id
        , coursearchive_sha256
        , coursearchive_course_version
        , coursearchive_retrieved_at
        , lag(coursearchive_course_version) over (
            partition by platform, courserun_id
            order by coursearchive_retrieved_at, coursearchive_sha256
        ) as previous_course_version
    from archives
    where
        coursearchive_status = 'loaded'
        and courserun_id is not null
)

, versions as (
    select
        platform
        , courserun_id
        , coursearchive_sha256
        , coursearchive_course_version
        , coursearchive_retrieved_at
        , row_number() over (
            partition by platform, courserun_id
            order by coursearchive_retrieved_at, coursearchive_sha256
        ) as version_number
    from loaded
    where not (previous_course_version <=> coursearchive_course_version)
)

, paired as (
    select
        platform
        , courserun_id
        , lag(version_number) over (
            partition by platform, courserun_id order by version_number
        ) as from_version_number
        , lag(coursearchive_sha256) over (
            partition by platform, courserun_id order by version_number
        ) as from_archive_sha256
        , lag(coursearchive_course_version) over (
            partition by platform, courserun_id order by version_number
        ) as from_course_version
        , lag(coursearchive_retrieved_at) over (
            partition by platform, courserun_id order by version_number
        ) as from_retrieved_at
        , version_number as to_version_number
        , coursearchive_sha256 as to_archive_sha256
        , coursearchive_course_version as to_course_version
        , coursearchive_retrieved_at as to_retrieved_at
    from versions
)

, consecutive as (
    select
        platform
        , courserun_id
        , from_version_number
        , from_archive_sha256
        , from_course_version
        , from_retrieved_at
        , to_version_number
        , to_archive_sha256
        , to_course_version
        , to_retrieved_at
    from paired
    where from_archive_sha256 is not null
)

select * from consecutive
