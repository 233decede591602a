{#
    Course run ids as the sources spell them: `course-v1:Org+Number+Run` (opaque keys) or the
    older `Org/Number/Run`.
#}

{#- The normalised id marts join sources on: no `course-v1:` prefix, parts joined by `+`. -#}
{% macro courserun_key(column) -%}
    regexp_replace(regexp_replace({{ column }}, '^course-v1:', ''), '/', '+')
{%- endmacro %}

{#- Part `n` (1 org, 2 number, 3 run) of a course run id, either spelling. -#}
{% macro courserun_id_part(column, n) -%}
    element_at(split({{ courserun_key(column) }}, '[+]'), {{ n }})
{%- endmacro %}
