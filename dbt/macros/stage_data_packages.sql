{#
    Reading the raw tables of edX research data packages (`olx-spark ingest data-packages`).

    Those tables do not all exist on every warehouse, and their columns are not fixed: a dump
    table `raw__edxorg__s3__tables__{table}` is created when the first file of that table is
    loaded, with the columns of that file's header (a later header may add columns, and
    `user_id_map` names its user id `id` in some packages and `user_id` in others). So the
    staging models never read a package table directly: `package_source_select(table)` selects
    exactly the columns the table declares in models/staging/_sources.yml (the one list of
    them: name, data_type, description), each as the table has it, or a typed null where the
    table lacks it, and no rows at all when the table does not exist yet. A model built on a
    warehouse without packages is empty, with its final column types; when packages arrive,
    the next incremental run picks their rows up.
#}

{#- The columns a package source declares in _sources.yml (dicts with name and data_type). -#}
{% macro package_source_columns(table) -%}
    {%- set unique_id = 'source.' ~ project_name ~ '.ol_warehouse_raw_data.' ~ table -%}
    {%- set node = graph.sources.get(unique_id) -%}
    {%- if node is none or not node.columns -%}
        {{ exceptions.raise_compiler_error(
            'package source ' ~ table ~ ' declares no columns in models/staging/_sources.yml'
        ) }}
    {%- endif -%}
    {%- for column in node.columns.values() if not column.data_type -%}
        {{ exceptions.raise_compiler_error(
            'column ' ~ column.name ~ ' of ' ~ table ~ ' has no data_type in _sources.yml'
        ) }}
    {%- endfor -%}
    {{ return(node.columns.values() | list) }}
{%- endmacro %}

{#-
    `select` of the declared columns of a package source, whatever the table holds: a column
    the table lacks is a typed null, a missing table gives no rows (`select ... where false`).
    Whether the table exists comes from the adapter's cached listing of the schema (no failing
    `describe` of a missing table, which Spark would log as an error); an existing table is
    described once per model run. Nothing is created in the raw schema.
-#}
{% macro package_source_select(table) -%}
    {%- set relation = source('ol_warehouse_raw_data', table) -%}
    {%- if not execute -%}
    select * from {{ relation }}
    {%- else -%}
    {%- set present = [] -%}
    {%- set existing = adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier
    ) -%}
    {%- if existing is not none -%}
    {%- for column in adapter.get_columns_in_relation(existing) -%}
        {%- do present.append(column.name | lower) -%}
    {%- endfor -%}
    {%- endif -%}
    select
    {%- for column in package_source_columns(table) %}
        {% if not loop.first %}, {% endif -%}
        {%- if column.name | lower in present -%}
        `{{ column.name }}`
        {%- else -%}
        cast(null as {{ column.data_type }}) as `{{ column.name }}`
        {%- endif -%}
    {%- endfor %}
    {% if present -%}
    from {{ relation }}
    {%- else -%}
    where false /* {{ relation }} does not exist yet */
    {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#-
    Rows of a package content table that this incremental model does not hold yet: newer
    (`retrieved_at`) than the newest it holds, and only of files the ledger lists as `loaded`
    (rows of a run killed before its ledger commit are never staged; files recorded as
    `unchanged` wrote no rows).
-#}
{% macro package_new_rows(table, staged_retrieved_at) -%}
    select content.*
    from ({{ package_source_select(table) }}) as content
    where
        content.file_uri in (
            select ledger.file_uri
            from ({{ package_source_select('raw__edxorg__s3__data_package_files') }}) as ledger
            where ledger.status = 'loaded' and ledger.file_uri is not null
        )
        {% if is_incremental() -%}
        and content.retrieved_at > (
            select coalesce(to_timestamp(max({{ staged_retrieved_at }})), timestamp '1970-01-01')
            from {{ this }}
        )
        {%- endif %}
{%- endmacro %}

{#- The file columns every package content row carries, with the model's entity prefix. -#}
{% macro package_file_columns(prefix, line_number=true) -%}
    source_system as {{ prefix }}_source_system
        , package_date as {{ prefix }}_package_date
        , file_uri as {{ prefix }}_file_uri
        , file_sha256 as {{ prefix }}_file_sha256
        {%- if line_number %}
        , line_number as {{ prefix }}_line_number
        {%- endif %}
        , {{ cast_timestamp_to_iso8601('retrieved_at') }} as {{ prefix }}_retrieved_at
{%- endmacro %}

{#-
    A datetime of a dump (text, UTC without a zone suffix: `2024-01-02 03:04:05`) as ISO 8601
    UTC (`2024-01-02T03:04:05.000000Z`), whatever the session time zone; a value that carries
    its own offset keeps it; anything else (empty, `0000-00-00 00:00:00`) is null.
-#}
{% macro cast_utc_text_to_iso8601(column) -%}
    {{ cast_timestamp_to_iso8601(
        "coalesce(try_cast(concat(" ~ column ~ ", 'Z') as timestamp), try_cast("
        ~ column ~ " as timestamp))"
    ) }}
{%- endmacro %}
