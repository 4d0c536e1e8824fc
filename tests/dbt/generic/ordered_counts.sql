{#- Each column is at most the next one, row by row: e.g. accepted <= sent <= backend. -#}
{% test ordered_counts(model, columns) %}
select *
from {{ model }}
where
    {% for i in range(columns | length - 1) %}
    {{ columns[i] }} > {{ columns[i + 1] }}{% if not loop.last %} or{% endif %}
    {% endfor %}
{% endtest %}
