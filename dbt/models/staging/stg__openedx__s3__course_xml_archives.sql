{{
    config(
        unique_key='coursearchive_key'
    )
}}

-- The SQL is shared by both platforms: macros/stage_course_xml.sql
{{ stage_course_xml_archives('openedx') }}
