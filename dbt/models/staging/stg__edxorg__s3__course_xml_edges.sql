{{
    config(
        unique_key='coursestructure_edge_key'
    )
}}

-- The SQL is shared by both platforms: macros/stage_course_xml.sql
{{ stage_course_xml_edges('edxorg') }}
