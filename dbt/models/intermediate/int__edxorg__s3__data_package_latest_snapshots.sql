{{
    config(
        tags=['data_packages']
    )
}}

-- The latest snapshot of each course's (and org's) data package tables: one row per site,
-- org, course run and raw table, naming the file whose rows are that snapshot. A file whose
-- content equals the last loaded copy is recorded as `unchanged` and not written again, so the
-- snapshot is the latest LOADED file (by package date), and `packagefile_latest_package_date`
-- is the latest package that delivered that same content (loaded or unchanged).
-- The rows of a snapshot: join a staging model's `{entity}_file_uri` to `packagefile_uri`.
with files as (
    select * from {{ ref('stg__edxorg__s3__data_package_files') }}
    where
        packagefile_kind in ('table', 'email_opt_in', 'course_structure', 'forum')
        and packagefile_status in ('loaded', 'unchanged')
)

, keyed as (
    select
        *
        , lower(packagefile_org) as org_key
    from files
)

, loaded as (
    select
        *
        , row_number() over (
            partition by packagefile_source_system, org_key, courserun_id, packagefile_target_table
            order by packagefile_package_date desc, packagefile_retrieved_at desc, packagefile_uri desc
        ) as snapshot_rank
    from keyed
    where packagefile_status = 'loaded'
)

, delivered as (
    select
        packagefile_source_system
        , org_key
        , courserun_id
        , packagefile_target_table
        , max(packagefile_package_date) as packagefile_latest_package_date
        , count(distinct case when packagefile_status = 'loaded' then packagefile_uri end)
            as packagefile_loaded_file_count
    from keyed
    group by packagefile_source_system, org_key, courserun_id, packagefile_target_table
)

, latest as (
    select
        loaded.packagefile_source_system
        , loaded.org_key as packagefile_org
        , loaded.courserun_id
        , coalesce(loaded.packagefile_table_name, loaded.packagefile_kind) as packagefile_table_name
        , loaded.packagefile_kind
        , loaded.packagefile_target_table
        , loaded.packagefile_uri
        , loaded.packagefile_sha256
        , loaded.packagefile_package_uri
        , loaded.packagefile_package_date
        , loaded.packagefile_row_count
        , loaded.packagefile_retrieved_at
        , delivered.packagefile_latest_package_date
        , delivered.packagefile_loaded_file_count
    from loaded
    inner join delivered
        on
            loaded.packagefile_source_system <=> delivered.packagefile_source_system
            and loaded.org_key <=> delivered.org_key
            and loaded.courserun_id <=> delivered.courserun_id
            and loaded.packagefile_target_table <=> delivered.packagefile_target_table
    where loaded.snapshot_rank = 1
)

select * from latest
