with edxorg as (
    select * from {{ ref('stg__edxorg__s3__course_xml_archives') }}
)

, openedx as (
    select * from {{ ref('stg__openedx__s3__course_xml_archives') }}
)

, combined as (
    select 'edxorg' as platform, * from edxorg
    union all
    select 'openedx' as platform, * from openedx
)

select * from combined
