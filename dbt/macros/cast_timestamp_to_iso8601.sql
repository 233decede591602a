{#
    A timestamp (or a string Spark can cast to one: `2024-01-01T00:00:00Z`, `2013-02-05T05:00`,
    `2014-02-24 00:00:00+00:00`) as an ISO 8601 string in UTC with microseconds:
    `2024-01-01T00:00:00.000000Z`. Strings without an offset are read in the session time zone
    (UTC in olx-spark's sessions). Anything that is not a timestamp becomes null.
    The fixed width keeps the strings in time order when compared as strings.
#}
{% macro cast_timestamp_to_iso8601(column) -%}
    date_format(
        to_utc_timestamp(try_cast({{ column }} as timestamp), current_timezone())
        , "yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'"
    )
{%- endmacro %}
