-- marts__course_block_changes' rows agree with their change type: an added block has no old
-- place and a removed one no new place; a block in both versions has a parent in both or in
-- neither (the root); changed_settings is given, non-empty, exactly for settings_changed; and
-- an added or removed block has no other row for the same pair of versions.
with changes as (
    select * from {{ ref('marts__course_block_changes') }}
)

, rows_per_block as (
    select
        platform
        , courserun_id
        , from_archive_sha256
        , to_archive_sha256
        , block_id
        , count(*) as change_count
        , count_if(change_type in ('added', 'removed')) as added_or_removed_count
    from changes
    group by platform, courserun_id, from_archive_sha256, to_archive_sha256, block_id
)

, broken_rows as (
    select block_change_key
    from changes
    where
        (change_type = 'added' and (old_parent_block_id is not null or old_position is not null))
        or (change_type = 'removed' and (new_parent_block_id is not null or new_position is not null))
        or (
            change_type not in ('added', 'removed')
            and (old_parent_block_id is null) != (new_parent_block_id is null)
        )
        or ((change_type = 'settings_changed') != coalesce(size(changed_settings) > 0, false))
)

, broken_blocks as (
    select block_id as block_change_key
    from rows_per_block
    where added_or_removed_count > 0 and change_count > 1
)

select * from broken_rows
union all
select * from broken_blocks
