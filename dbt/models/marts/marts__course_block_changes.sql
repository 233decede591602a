{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='block_change_key',
        on_schema_change='append_new_columns'
    )
}}

-- The change log between consecutive content versions of each course run
-- (specs/olx-versions.md): one row per block and change type, published tree only (blocks
-- neither draft nor orphan; links not draft, from a published block). The pairs of versions
-- are int__course_versions__consecutive's (retrieval order, an unchanged re-export skipped).
-- A block is compared with itself (same usage key) in the two versions; the exact rules, the
-- reordering's tie rule and the own-XML regular expressions are in the model's description
-- (_marts__models.yml), which `olx-spark olx diff` must agree with. In short:
-- - added / removed: in the new / the old published tree only (no other row for it);
-- - moved: its set of published parents differs;
-- - reordered: under a parent it has in both versions, it is outside the kept longest
--   increasing subsequence of the common children's new ranks taken in old order (of several,
--   the lexicographically smallest list of old positions);
-- - content_changed: block_hash differs and its own XML (raw_xml without the root's
--   attributes and, in a block with published children, without the child pointers) or its
--   body differs;
-- - settings_changed: its settings after policy differ (`changed_settings`: the keys, sorted);
-- - children_changed: its ordered list of published children differs.
-- Nothing else gets a row: an ancestor whose subtree hash changed only below it has none.
-- Incremental: a run compares only the pairs whose newer archive was read after the newest
-- this model holds (`to_retrieved_at`), reading only the rows of those pairs' archives; rows
-- merge on their key, so a rerun adds nothing.
with version_pairs as (
    select * from {{ ref('int__course_versions__consecutive') }}
    {% if is_incremental() %}
    where to_retrieved_at > (select coalesce(max(to_retrieved_at), '') from {{ this }})
    {% endif %}
)

, blocks as (
    select * from {{ ref('int__combined__course_xml_blocks') }}
)

, edges as (
    select * from {{ ref('int__combined__course_xml_edges') }}
)

, compared_archives as (
    select
        platform
        , from_archive_sha256 as archive_sha256
    from version_pairs
    union
    select
        platform
        , to_archive_sha256 as archive_sha256
    from version_pairs
)

, published_blocks as (
    select
        blocks.platform
        , blocks.coursestructure_archive_sha256 as archive_sha256
        , blocks.coursestructure_block_id as block_id
        , blocks.coursestructure_block_type as block_type
        , blocks.coursestructure_parent_block_id as parent_block_id
        , blocks.coursestructure_block_position as block_position
        , coalesce(blocks.coursestructure_block_settings, cast(map() as map<string, string>))
            as block_settings
        -- (1) of the own XML: the root's attributes dropped (they are settings)
        , regexp_replace(
            blocks.coursestructure_block_raw_xml, '^<([^ \t\r\n/>]+)[^>]*?(/?)>', '<$1$2>'
        ) as block_xml_without_attributes
        , blocks.coursestructure_block_content as block_content
        , blocks.coursestructure_block_hash as block_hash
    from blocks
    inner join compared_archives
        on
            blocks.platform = compared_archives.platform
            and blocks.coursestructure_archive_sha256 = compared_archives.archive_sha256
    where
        not blocks.coursestructure_block_is_draft
        and not blocks.coursestructure_block_is_orphan
)

, published_edges as (
    select
        edges.platform
        , edges.coursestructure_archive_sha256 as archive_sha256
        , edges.coursestructure_parent_block_id as parent_block_id
        , edges.coursestructure_child_block_id as child_block_id
        , edges.coursestructure_child_position as child_position
    from edges
    inner join published_blocks as parents
        on
            edges.platform = parents.platform
            and edges.coursestructure_archive_sha256 = parents.archive_sha256
            and edges.coursestructure_parent_block_id = parents.block_id
    where not edges.coursestructure_edge_is_draft
)

-- A container's children in position order (a child linked twice is listed twice).
, block_children as (
    select
        platform
        , archive_sha256
        , parent_block_id as block_id
        , transform(
            array_sort(
                collect_list(named_struct('position', child_position, 'block_id', child_block_id))
            )
            , child -> child.block_id
        ) as child_block_ids
    from published_edges
    group by platform, archive_sha256, parent_block_id
)

, block_parents as (
    select
        platform
        , archive_sha256
        , child_block_id as block_id
        , array_sort(collect_set(parent_block_id)) as parent_block_ids
    from published_edges
    group by platform, archive_sha256, child_block_id
)

, block_states as (
    select
        published_blocks.platform
        , published_blocks.archive_sha256
        , published_blocks.block_id
        , published_blocks.block_type
        , published_blocks.parent_block_id
        , published_blocks.block_position
        , published_blocks.block_settings
        -- A block's own XML: (1) above, then, for a block with published children (the
        -- pointers are its children's), (2) each child pointer `<type url_name=".."/>` dropped
        -- with the whitespace around it and (3) a root left empty written `<type/>`. The same
        -- regular expressions in Java and Python; whitespace is XML's: space, tab, CR, LF.
        , case
            when block_children.block_id is null then published_blocks.block_xml_without_attributes
            else regexp_replace(
                regexp_replace(
                    published_blocks.block_xml_without_attributes
                    , '[ \t\r\n]*<[^ \t\r\n/>!?]+ url_name="[^"]*"/>[ \t\r\n]*'
                    , ''
                )
                , '^<([^ \t\r\n/>]+)></\\1>$'
                , '<$1/>'
            )
        end as block_own_xml
        , published_blocks.block_content
        , published_blocks.block_hash
        , coalesce(block_parents.parent_block_ids, cast(array() as array<string>))
            as parent_block_ids
        , coalesce(block_children.child_block_ids, cast(array() as array<string>))
            as child_block_ids
    from published_blocks
    left join block_parents
        on
            published_blocks.platform = block_parents.platform
            and published_blocks.archive_sha256 = block_parents.archive_sha256
            and published_blocks.block_id = block_parents.block_id
    left join block_children
        on
            published_blocks.platform = block_children.platform
            and published_blocks.archive_sha256 = block_children.archive_sha256
            and published_blocks.block_id = block_children.block_id
)

, version_sides as (
    -- each pair twice: its old version's archive, then its new one's
    select
        version_pairs.platform
        , version_pairs.courserun_id
        , version_pairs.from_archive_sha256
        , version_pairs.to_archive_sha256
        , side.version_side
        , side.archive_sha256
    from version_pairs
    lateral view explode(array(
        named_struct('version_side', 'old', 'archive_sha256', version_pairs.from_archive_sha256)
        , named_struct('version_side', 'new', 'archive_sha256', version_pairs.to_archive_sha256)
    )) sides as side
)

, side_states as (
    select
        version_sides.platform
        , version_sides.courserun_id
        , version_sides.from_archive_sha256
        , version_sides.to_archive_sha256
        , version_sides.version_side
        , block_states.block_id
        , block_states.block_type
        , block_states.parent_block_id
        , block_states.block_position
        , block_states.block_settings
        , block_states.block_own_xml
        , block_states.block_content
        , block_states.block_hash
        , block_states.parent_block_ids
        , block_states.child_block_ids
    from version_sides
    inner join block_states
        on
            version_sides.platform = block_states.platform
            and version_sides.archive_sha256 = block_states.archive_sha256
)

, old_states as (
    select * from side_states where version_side = 'old'
)

, new_states as (
    select * from side_states where version_side = 'new'
)

, compared as (
    select
        coalesce(old_states.platform, new_states.platform) as platform
        , coalesce(old_states.courserun_id, new_states.courserun_id) as courserun_id
        , coalesce(old_states.from_archive_sha256, new_states.from_archive_sha256)
            as from_archive_sha256
        , coalesce(old_states.to_archive_sha256, new_states.to_archive_sha256)
            as to_archive_sha256
        , coalesce(old_states.block_id, new_states.block_id) as block_id
        , coalesce(new_states.block_type, old_states.block_type) as block_type
        , old_states.block_id is not null as is_in_old
        , new_states.block_id is not null as is_in_new
        , old_states.parent_block_id as old_parent_block_id
        , new_states.parent_block_id as new_parent_block_id
        , old_states.block_position as old_position
        , new_states.block_position as new_position
        , old_states.parent_block_ids as old_parent_block_ids
        , new_states.parent_block_ids as new_parent_block_ids
        , old_states.child_block_ids as old_child_block_ids
        , new_states.child_block_ids as new_child_block_ids
        , old_states.block_own_xml as old_own_xml
        , new_states.block_own_xml as new_own_xml
        , old_states.block_content as old_content
        , new_states.block_content as new_content
        , old_states.block_hash as old_block_hash
        , new_states.block_hash as new_block_hash
        , old_states.block_settings as old_settings
        , new_states.block_settings as new_settings
    from old_states
    full outer join new_states
        on
            old_states.platform = new_states.platform
            and old_states.courserun_id = new_states.courserun_id
            and old_states.from_archive_sha256 = new_states.from_archive_sha256
            and old_states.to_archive_sha256 = new_states.to_archive_sha256
            and old_states.block_id = new_states.block_id
)

, with_changed_settings as (
    select
        *
        , case
            when is_in_old and is_in_new
                then array_sort(filter(
                    array_distinct(concat(map_keys(old_settings), map_keys(new_settings)))
                    , setting -> not (
                        array_contains(map_keys(old_settings), setting)
                        and array_contains(map_keys(new_settings), setting)
                        and try_element_at(old_settings, setting)
                        <=> try_element_at(new_settings, setting)
                    )
                ))
        end as changed_settings
    from compared
)

-- Reordering, per container present in both versions whose child list changed: its children
-- present in both lists (each at its first place), in old order, with their 1-based rank in
-- the new order.
, common_children as (
    select
        platform
        , courserun_id
        , from_archive_sha256
        , to_archive_sha256
        , array_distinct(filter(old_child_block_ids, child -> array_contains(new_child_block_ids, child)))
            as common_old_order
        , array_distinct(filter(new_child_block_ids, child -> array_contains(old_child_block_ids, child)))
            as common_new_order
    from compared
    where
        is_in_old
        and is_in_new
        and not (old_child_block_ids <=> new_child_block_ids)
)

, ranked_children as (
    select
        platform
        , courserun_id
        , from_archive_sha256
        , to_archive_sha256
        , common_old_order
        , transform(common_old_order, child -> cast(array_position(common_new_order, child) as int))
            as new_ranks
    from common_children
    where size(common_old_order) >= 2
)

-- lis_lengths[i] = length of the longest increasing run of new ranks that starts at the i-th
-- child (old order), built from the last child back (O(n^2) per container).
, lis_lengths as (
    select
        *
        , aggregate(
            reverse(sequence(1, size(new_ranks)))
            , cast(array() as array<int>)
            , (later, i) -> concat(
                array(1 + coalesce(array_max(transform(
                    later
                    , (later_length, k) -> if(
                        element_at(new_ranks, i + k + 1) > element_at(new_ranks, i), later_length, 0
                    )
                )), 0))
                , later
            )
        ) as lis_lengths
    from ranked_children
)

-- The kept subsequence: walking the children in old order, keep a child when a longest run
-- still needs its length from there and its rank exceeds the last kept one (this picks the
-- lexicographically smallest list of old positions among the longest).
, lis_kept as (
    select
        *
        , aggregate(
            sequence(1, size(new_ranks))
            , named_struct(
                'remaining', array_max(lis_lengths)
                , 'last_rank', 0
                , 'kept', cast(array() as array<string>)
            )
            , (state, i) -> if(
                element_at(lis_lengths, i) = state.remaining
                and element_at(new_ranks, i) > state.last_rank
                , named_struct(
                    'remaining', state.remaining - 1
                    , 'last_rank', element_at(new_ranks, i)
                    , 'kept', concat(state.kept, array(element_at(common_old_order, i)))
                )
                , state
            )
            , state -> state.kept
        ) as kept_block_ids
    from lis_lengths
)

, reordered_children as (
    select
        platform
        , courserun_id
        , from_archive_sha256
        , to_archive_sha256
        , explode(filter(common_old_order, child -> not array_contains(kept_block_ids, child)))
            as block_id
    from lis_kept
)

, reordered as (
    select distinct
        platform
        , courserun_id
        , from_archive_sha256
        , to_archive_sha256
        , block_id
    from reordered_children
)

, flagged as (
    select
        with_changed_settings.*
        , reordered.block_id is not null as is_reordered
    from with_changed_settings
    left join reordered
        on
            with_changed_settings.platform = reordered.platform
            and with_changed_settings.courserun_id = reordered.courserun_id
            and with_changed_settings.from_archive_sha256 = reordered.from_archive_sha256
            and with_changed_settings.to_archive_sha256 = reordered.to_archive_sha256
            and with_changed_settings.block_id = reordered.block_id
)

, changes as (
    select
        *
        , explode(filter(
            array(
                case when not is_in_old then 'added' end
                , case when not is_in_new then 'removed' end
                , case
                    when is_in_old and is_in_new and not (old_parent_block_ids <=> new_parent_block_ids)
                        then 'moved'
                end
                , case when is_reordered then 'reordered' end
                , case
                    when
                        is_in_old and is_in_new
                        and not (old_block_hash <=> new_block_hash)
                        and not (old_own_xml <=> new_own_xml and old_content <=> new_content)
                        then 'content_changed'
                end
                , case when size(changed_settings) > 0 then 'settings_changed' end
                , case
                    when is_in_old and is_in_new and not (old_child_block_ids <=> new_child_block_ids)
                        then 'children_changed'
                end
            )
            , change_type -> change_type is not null
        )) as change_type
    from flagged
)

, final as (
    select
        {{ olx_surrogate_key([
            'changes.platform', 'changes.courserun_id', 'changes.from_archive_sha256',
            'changes.to_archive_sha256', 'changes.block_id', 'changes.change_type'
        ]) }} as block_change_key
        , changes.platform
        , changes.courserun_id
        , version_pairs.from_course_version
        , version_pairs.to_course_version
        , changes.block_id
        , changes.block_type
        , changes.change_type
        , case when changes.change_type = 'settings_changed' then changes.changed_settings end
            as changed_settings
        , changes.old_parent_block_id
        , changes.new_parent_block_id
        , changes.old_position
        , changes.new_position
        , changes.from_archive_sha256
        , changes.to_archive_sha256
        , version_pairs.from_retrieved_at
        , version_pairs.to_retrieved_at
    from changes
    inner join version_pairs
        on
            changes.platform = version_pairs.platform
            and changes.courserun_id = version_pairs.courserun_id
            and changes.from_archive_sha256 = version_pairs.from_archive_sha256
            and changes.to_archive_sha256 = version_pairs.to_archive_sha256
)

select * from final
