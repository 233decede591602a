{{
    config(
        unique_key='coursepage_key'
    )
}}

-- The SQL is shared by both platforms: macros/stage_course_xml.sql
{{ stage_course_xml_pages('edxorg') }}
