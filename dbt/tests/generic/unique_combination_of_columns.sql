{#
    Fails for every combination of `combination_of_columns` that occurs more than once
    (like dbt_utils.unique_combination_of_columns, without the package).
#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

with source as (
    select * from {{ model }}
)

, duplicated as (
    select
        {{ combination_of_columns | join('\n        , ') }}
        , count(*) as row_count
    from source
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
)

select * from duplicated

{% endtest %}
