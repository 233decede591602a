-- The published tree of each course run's latest version, one row per block, with its
-- section / subsection / unit ancestors and its place in course order. From the latest loaded
-- course archive (drafts and orphans left out); a course run with no archive but a data
-- package takes the newest course_structure JSON. Ancestors are found by joining the parent
-- link up to {{ var('marts_max_block_depth', 10) }} levels (OLX trees are 4-6 deep);
-- `course_order_index` sorts blocks by the child positions along their path from the course
-- (a depth-first walk, the order the LMS shows).
{%- set max_depth = var('marts_max_block_depth', 10) %}
with latest_versions as (
    select * from {{ ref('int__combined__course_xml_latest_versions') }}
)

-- A course run loaded on both platforms keeps the most recently read archive (as
-- marts__course_runs does): one tree per course run.
, latest_archives as (
    select
        platform
        , courserun_id
        , coursearchive_sha256
    from (
        select
            platform
            , courserun_id
            , coursearchive_sha256
            , row_number() over (
                partition by courserun_id order by coursearchive_retrieved_at desc, platform
            ) as platform_rank
        from latest_versions
    ) as ranked
    where platform_rank = 1
)

, xml_blocks as (
    select * from {{ ref('int__combined__course_xml_blocks') }}
)

, structure_blocks as (
    select * from {{ ref('stg__edxorg__s3__course_structure') }}
)

, latest_xml_blocks as (
    select
        latest_archives.platform
        , xml_blocks.courserun_id
        , xml_blocks.coursestructure_block_id as block_id
        , xml_blocks.coursestructure_block_type as block_type
        , xml_blocks.coursestructure_block_title as block_title
        , xml_blocks.coursestructure_block_url_name as block_url_name
        , xml_blocks.coursestructure_parent_block_id as parent_block_id
        , xml_blocks.coursestructure_block_position as block_position
        , xml_blocks.coursestructure_block_is_graded as own_is_graded
        , xml_blocks.coursestructure_block_format as own_format
        , xml_blocks.coursestructure_block_due_on as own_due_on
        , xml_blocks.coursestructure_video_duration_seconds as video_duration_seconds
        , 'course_xml' as block_source
    from latest_archives
    inner join xml_blocks
        on
            latest_archives.platform = xml_blocks.platform
            and latest_archives.coursearchive_sha256 = xml_blocks.coursestructure_archive_sha256
    where
        not xml_blocks.coursestructure_block_is_draft
        and not xml_blocks.coursestructure_block_is_orphan
)

, latest_structure_files as (
    select
        courserun_id
        , coursestructure_file_uri
        , row_number() over (
            partition by courserun_id
            order by coursestructure_package_date desc, coursestructure_retrieved_at desc, coursestructure_file_uri desc
        ) as file_rank
    from (
        select distinct courserun_id, coursestructure_file_uri, coursestructure_package_date, coursestructure_retrieved_at
        from structure_blocks
        where courserun_id is not null
    ) as files
)

, latest_structure_blocks as (
    select
        'edxorg' as platform
        , structure_blocks.courserun_id
        , structure_blocks.coursestructure_block_id as block_id
        , structure_blocks.coursestructure_block_category as block_type
        , structure_blocks.coursestructure_block_title as block_title
        , element_at(split(structure_blocks.coursestructure_block_id, '[@/]'), -1) as block_url_name
        , structure_blocks.coursestructure_parent_block_id as parent_block_id
        , structure_blocks.coursestructure_block_position as block_position
        , structure_blocks.coursestructure_block_is_graded as own_is_graded
        , structure_blocks.coursestructure_block_format as own_format
        , structure_blocks.coursestructure_block_due_on as own_due_on
        , try_cast(get_json_object(structure_blocks.coursestructure_block_metadata, '$.duration') as double)
            as video_duration_seconds
        , 'course_structure' as block_source
    from structure_blocks
    inner join latest_structure_files
        on
            structure_blocks.courserun_id = latest_structure_files.courserun_id
            and structure_blocks.coursestructure_file_uri = latest_structure_files.coursestructure_file_uri
            and latest_structure_files.file_rank = 1
    where structure_blocks.courserun_id not in (
        select courserun_id from latest_archives where courserun_id is not null
    )
)

, tree as (
    select * from latest_xml_blocks
    union all
    select * from latest_structure_blocks
)

, ancestry as (
    select
        b0.*
        {%- for level in range(1, max_depth + 1) %}
        , a{{ level }}.block_id as a{{ level }}_id
        , a{{ level }}.block_type as a{{ level }}_type
        , a{{ level }}.block_title as a{{ level }}_title
        , a{{ level }}.block_position as a{{ level }}_position
        , a{{ level }}.own_is_graded as a{{ level }}_is_graded
        , a{{ level }}.own_format as a{{ level }}_format
        , a{{ level }}.own_due_on as a{{ level }}_due_on
        {%- endfor %}
    from tree as b0
    {%- for level in range(1, max_depth + 1) %}
    left join tree as a{{ level }}
        on
            b0.courserun_id = a{{ level }}.courserun_id
            and {{ 'b0' if level == 1 else 'a' ~ (level - 1) }}.parent_block_id = a{{ level }}.block_id
    {%- endfor %}
)

, located as (
    select
        platform
        , courserun_id
        , block_id
        , block_type
        , block_title
        , block_url_name
        , parent_block_id
        , size(filter(
            array({% for level in range(1, max_depth + 1) %}a{{ level }}_id{{ ', ' if not loop.last }}{% endfor %})
            , x -> x is not null
        )) as block_depth
        , {{ nearest_ancestor(max_depth, 'chapter', 'id', 'block_id') }} as chapter_block_id
        , {{ nearest_ancestor(max_depth, 'chapter', 'title', 'block_title') }} as chapter_title
        , {{ nearest_ancestor(max_depth, 'sequential', 'id', 'block_id') }} as sequential_block_id
        , {{ nearest_ancestor(max_depth, 'sequential', 'title', 'block_title') }} as sequential_title
        , {{ nearest_ancestor(max_depth, 'vertical', 'id', 'block_id') }} as vertical_block_id
        , {{ nearest_ancestor(max_depth, 'vertical', 'title', 'block_title') }} as vertical_title
        , coalesce(own_is_graded, {{ nearest_ancestor(max_depth, 'sequential', 'is_graded', 'own_is_graded') }}, false) as block_is_graded
        , coalesce(own_format, {{ nearest_ancestor(max_depth, 'sequential', 'format', 'own_format') }}) as block_format
        , coalesce(own_due_on, {{ nearest_ancestor(max_depth, 'sequential', 'due_on', 'own_due_on') }}) as block_due_on
        , case when block_type = 'video' then video_duration_seconds end as video_duration_seconds
        , block_source
        , reverse(transform(
            filter(
                array(
                    named_struct('id', block_id, 'position', block_position)
                    {%- for level in range(1, max_depth + 1) %}
                    , named_struct('id', a{{ level }}_id, 'position', a{{ level }}_position)
                    {%- endfor %}
                )
                , x -> x.id is not null
            )
            , x -> coalesce(x.position, -1)
        )) as course_order_path
    from ancestry
)

, ordered as (
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
        , row_number() over (
            partition by courserun_id
            order by course_order_path, block_id
        ) - 1 as course_order_index
        , block_is_graded
        , block_format
        , block_due_on
        , video_duration_seconds
        , block_source
    from located
)

select * from ordered
