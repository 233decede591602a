{#
    Typed values out of a block's `settings` map (map<string, string>).

    Settings are strings: values that were JSON non-strings in a policy file are their JSON text
    (`true`, `3`, `["a"]`, `null`), strings are plain (`2024-01-01T00:00:00Z`). Some old
    exports carry JSON-quoted strings in XML attributes (`start="&quot;2013-02-05&quot;"`), so
    the typed readers strip surrounding double quotes first. A value that does not parse is null
    (try_cast), never an error, whatever the session's ANSI mode.
#}

{% macro olx_setting_text(settings, key) -%}
    trim(both '"' from {{ settings }}['{{ key }}'])
{%- endmacro %}

{% macro olx_setting_string(settings, key) -%}
    nullif(nullif({{ settings }}['{{ key }}'], ''), 'null')
{%- endmacro %}

{% macro olx_setting_timestamp(settings, key) -%}
    {{ cast_timestamp_to_iso8601(olx_setting_text(settings, key)) }}
{%- endmacro %}

{% macro olx_setting_boolean(settings, key) -%}
    try_cast(lower({{ olx_setting_text(settings, key) }}) as boolean)
{%- endmacro %}

{% macro olx_setting_int(settings, key) -%}
    try_cast(try_cast({{ olx_setting_text(settings, key) }} as double) as int)
{%- endmacro %}

{% macro olx_setting_double(settings, key) -%}
    try_cast({{ olx_setting_text(settings, key) }} as double)
{%- endmacro %}
