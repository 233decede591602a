{#
    Reading the tracking log tables (`olx-spark ingest tracking-logs`) and the xAPI tables
    (`olx-spark xapi`) for the staging models.

    Those tables exist only once their job has run, so the models read them through
    `package_source_select(table)` (macros/stage_data_packages.sql): exactly the columns the
    table declares in models/staging/_sources.yml, and no rows while the table does not exist.
    `dbt build` then works on a warehouse that holds only course archives or packages: the
    models build empty, with their final column types, and pick the rows up incrementally once
    the logs arrive.

    Each model reads only raw rows newer than the newest it holds (`retrieved_at` for tracking
    logs, `transformed_at` for xAPI statements) and only rows of files their ledger lists as
    written: events of logs `loaded` or `partial` in raw__edxorg__s3__tracking_logs_files,
    statements of logs in xapi__statements_files. Rows a killed run left behind (written before
    the ledger row, replaced by the next run) are never staged.
#}

{#- Ledger statuses of tracking log files whose events are written (olx_spark/tracking/tables.py). -#}
{% macro tracking_log_written_statuses() -%}
    ('loaded', 'partial')
{%- endmacro %}

{#-
    `and {column} > (newest staged)` on an incremental run, nothing on a full one. `staged` is
    the model's ISO 8601 column of the same instant (cast_timestamp_to_iso8601).
-#}
{% macro newer_than_staged(column, staged) -%}
    {%- if is_incremental() %}
        and {{ column }} > (
            select coalesce(to_timestamp(max({{ staged }})), timestamp '1970-01-01')
            from {{ this }}
        )
    {%- endif %}
{%- endmacro %}

{#- Events of written tracking log files that this incremental model does not hold yet. -#}
{% macro tracking_log_new_events(staged_retrieved_at) -%}
    select events.*
    from ({{ package_source_select('raw__edxorg__s3__tracking_logs') }}) as events
    where
        events.file_sha256 in (
            select ledger.file_sha256
            from ({{ package_source_select('raw__edxorg__s3__tracking_logs_files') }}) as ledger
            where ledger.status in {{ tracking_log_written_statuses() }}
        )
        {{- newer_than_staged('events.retrieved_at', staged_retrieved_at) }}
{%- endmacro %}

{#-
    Statements of transformed tracking logs that this incremental model does not hold yet, with
    their log's lineage: `source_file_uri`, `source_log_date` (xAPI ledger), `source_system` and
    `source_retrieved_at` (the tracking log ledger: where and when the log was read).
-#}
{% macro xapi_new_statements(staged_transformed_at) -%}
    select
        statements.*
        , transformed.source_file_uri
        , transformed.source_log_date
        , landed.source_system
        , landed.source_retrieved_at
    from ({{ package_source_select('xapi__statements') }}) as statements
    inner join (
        select
            ledger.source_file_sha256
            , max(ledger.source_file_uri) as source_file_uri
            , max(ledger.log_date) as source_log_date
        from ({{ package_source_select('xapi__statements_files') }}) as ledger
        group by ledger.source_file_sha256
    ) as transformed
        on statements.source_file_sha256 = transformed.source_file_sha256
    left join (
        select
            ledger.file_sha256
            , max(ledger.source_system) as source_system
            , min(ledger.retrieved_at) as source_retrieved_at
        from ({{ package_source_select('raw__edxorg__s3__tracking_logs_files') }}) as ledger
        where ledger.status in {{ tracking_log_written_statuses() }}
        group by ledger.file_sha256
    ) as landed
        on statements.source_file_sha256 = landed.file_sha256
    where true
        {{- newer_than_staged('statements.transformed_at', staged_transformed_at) }}
{%- endmacro %}

{#-
    A value of a statement's JSON by a get_json_object path (`$.result.score.scaled`; a key
    with dots or slashes in brackets: `$.result.extensions['https://...']`), as text, or as
    `data_type` with try_cast (null when it is not one). JSON booleans come as `true`/`false`.
-#}
{% macro xapi_json(path, data_type=none) -%}
    {%- if data_type -%}
    try_cast(get_json_object(statement, "{{ path }}") as {{ data_type }})
    {%- else -%}
    get_json_object(statement, "{{ path }}")
    {%- endif -%}
{%- endmacro %}
