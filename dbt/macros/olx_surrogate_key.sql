{#
    A row key: sha256 (hex) of the given columns as strings, `|`-separated, nulls as ''.
    Used as the `unique_key` of the incremental staging models.
#}
{% macro olx_surrogate_key(columns) -%}
    sha2(
        concat_ws(
            '|'
            {%- for column in columns %}
            , coalesce(cast({{ column }} as string), '')
            {%- endfor %}
        )
        , 256
    )
{%- endmacro %}
