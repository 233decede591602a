-- One row per block of each course run's latest version, in course order, with its section /
-- subsection / unit (int__course_blocks__ordered).
with blocks as (
    select * from {{ ref('int__course_blocks__ordered') }}
)

, final as (
    select
        platform
        , courserun_id
        , block_id
        , block_type
        , block_title
        , block_url_name
        , parent_block_id
        , block_depth
        , chapter_block_id
        , chapter_title
        , sequential_block_id
        , sequential_title
        , vertical_block_id
        , vertical_title
        , course_order_index
        , block_is_graded
        , block_format
        , block_due_on
        , video_duration_seconds
        , block_source
    from blocks
)

select * from final
