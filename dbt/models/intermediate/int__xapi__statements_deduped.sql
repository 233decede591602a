{{
    config(
        tags=['tracking_logs', 'xapi']
    )
}}

-- One row per xAPI statement id: the same event logged twice (in two log files, or twice in
-- one) gives the same statement twice in stg__xapi__statements; this keeps its first emission
-- (earliest log date, then log file and line) and says how many copies there are.
with statements as (
    select * from {{ ref('stg__xapi__statements') }}
)

, ranked as (
    select
        *
        , count(*) over (partition by xapistatement_id) as xapistatement_copy_count
        , row_number() over (
            partition by xapistatement_id
            order by
                xapistatement_source_log_date asc nulls last
                , xapistatement_source_file_uri
                , xapistatement_source_line_number
                , xapistatement_row_key
        ) as copy_rank
    from statements
)

select * except (copy_rank)
from ranked
where copy_rank = 1
