{#- Rows are unique on the combination of `columns` (dbt_utils' unique_combination_of_columns,
    which the dbt hub would provide; the hub is not reachable from our CI). -#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as rows_with_key
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
