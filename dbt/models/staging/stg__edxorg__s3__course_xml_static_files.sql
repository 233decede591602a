{{
    config(
        unique_key='coursestaticfile_key'
    )
}}

-- The SQL is shared by both platforms: macros/stage_course_xml.sql
{{ stage_course_xml_static_files('edxorg') }}
