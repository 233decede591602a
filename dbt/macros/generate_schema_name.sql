{#
    Models with a custom schema (`+schema: staging` in dbt_project.yml) land in
    `{target schema}_{custom schema}`, e.g. `ol_warehouse_local_staging`; others in the target
    schema itself. (dbt's default behaviour, spelled out so it is documented and stable.)
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ target.schema }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
