{#
    For int__course_blocks__ordered: the nearest block of `block_type` among a block and its
    ancestors `a1` .. `a{max_depth}` (columns `a{n}_type`, `a{n}_{column}`), `column` of it;
    `own_column` is the block's own column.
#}
{% macro nearest_ancestor(max_depth, block_type, column, own_column) -%}
    case
        when block_type = '{{ block_type }}' then {{ own_column }}
        {%- for level in range(1, max_depth + 1) %}
        when a{{ level }}_type = '{{ block_type }}' then a{{ level }}_{{ column }}
        {%- endfor %}
    end
{%- endmacro %}
