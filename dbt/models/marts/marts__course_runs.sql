-- One row per course run: the course record of the latest loaded archive
-- (int__combined__course_xml_courseruns), else of the newest data package course_structure,
-- with block counts from marts__course_blocks. A course id loaded on both platforms keeps the
-- most recently read archive.
with xml_courseruns as (
    select * from {{ ref('int__combined__course_xml_courseruns') }}
)

, blocks as (
    select * from {{ ref('int__course_blocks__ordered') }}
)

, structure as (
    select * from {{ ref('stg__edxorg__s3__course_structure') }}
)

, structure_courses as (
    select
        blocks.platform
        , blocks.courserun_id
        , blocks.block_title as courserun_title
        , structure.coursestructure_block_start_on as courserun_start_on
        , {{ cast_utc_text_to_iso8601("get_json_object(structure.coursestructure_block_metadata, '$.end')") }}
            as courserun_end_on
        , array_min(map_values(from_json(
            get_json_object(structure.coursestructure_block_metadata, '$.grading_policy.GRADE_CUTOFFS')
            , 'map<string, double>'
        ))) as courserun_passing_grade
        -- the course block of the newest course_structure file (the one the tree comes from):
        -- one row per course run however many packages were loaded
        , row_number() over (
            partition by blocks.courserun_id
            order by
                structure.coursestructure_package_date desc
                , structure.coursestructure_retrieved_at desc
                , structure.coursestructure_file_uri desc
        ) as file_rank
    from blocks
    inner join structure
        on
            blocks.courserun_id = structure.courserun_id
            and blocks.block_id = structure.coursestructure_block_id
    where
        blocks.block_source = 'course_structure'
        and blocks.block_type = 'course'
)

, block_counts as (
    select
        courserun_id
        , count_if(block_type = 'chapter') as chapter_count
        , count_if(block_type = 'sequential') as sequential_count
        , count_if(block_type = 'vertical') as vertical_count
        , count_if(block_type = 'problem') as problem_count
        , count_if(block_type = 'video') as video_count
        , count_if(block_type = 'problem' and block_is_graded) as graded_problem_count
    from blocks
    group by courserun_id
)

, from_xml as (
    select
        platform
        , courserun_id
        , courserun_org
        , courserun_course_number
        , courserun_run_tag
        , courserun_title
        , courserun_start_on
        , courserun_end_on
        , courserun_is_self_paced
        , courserun_passing_grade
        , courserun_course_version
        , 'course_xml' as courserun_structure_source
        , row_number() over (
            partition by courserun_id order by coursearchive_retrieved_at desc, platform
        ) as platform_rank
    from xml_courseruns
)

, from_structure as (
    select
        platform
        , courserun_id
        , {{ courserun_id_part('courserun_id', 1) }} as courserun_org
        , {{ courserun_id_part('courserun_id', 2) }} as courserun_course_number
        , {{ courserun_id_part('courserun_id', 3) }} as courserun_run_tag
        , courserun_title
        , courserun_start_on
        , courserun_end_on
        , cast(null as boolean) as courserun_is_self_paced
        , courserun_passing_grade
        , cast(null as string) as courserun_course_version
        , 'course_structure' as courserun_structure_source
        , 1 as platform_rank
    from structure_courses
    where file_rank = 1
)

, courseruns as (
    select * from from_xml where platform_rank = 1
    union all
    select * from from_structure
)

, final as (
    select
        courseruns.platform
        , courseruns.courserun_id
        , {{ courserun_key('courseruns.courserun_id') }} as courserun_key
        , courseruns.courserun_org
        , courseruns.courserun_course_number
        , courseruns.courserun_run_tag
        , courseruns.courserun_title
        , courseruns.courserun_start_on
        , courseruns.courserun_end_on
        , courseruns.courserun_is_self_paced
        , courseruns.courserun_passing_grade
        , coalesce(block_counts.chapter_count, 0) as chapter_count
        , coalesce(block_counts.sequential_count, 0) as sequential_count
        , coalesce(block_counts.vertical_count, 0) as vertical_count
        , coalesce(block_counts.problem_count, 0) as problem_count
        , coalesce(block_counts.video_count, 0) as video_count
        , coalesce(block_counts.graded_problem_count, 0) as graded_problem_count
        , courseruns.courserun_course_version
        , courseruns.courserun_structure_source
    from courseruns
    left join block_counts
        on courseruns.courserun_id = block_counts.courserun_id
)

select * from final
