{{
    config(
        unique_key='coursestructure_block_key'
    )
}}

-- The SQL is shared by both platforms: macros/stage_course_xml.sql
{{ stage_course_xml_blocks('edxorg') }}
