{#- Many assertions in one test node. On a daily build every dbt node costs its start-up
    whatever the data (about 0.05 s), and the scorecard's and report's tables hold a few dozen
    rows, so their assertions run as one singular test per layer (tests/dbt/*_integrity.sql)
    instead of one node each. Each assertion is the generic test's own SQL (the same macros
    the YAML would call), so the rule is unchanged; each failing row names the assertion it
    breaks, and the failure count is the failing rows of all of them. -#}
{% macro failing_rows_of(assertions) -%}
    {%- for name, sql in assertions %}
    select cast('{{ name }}' as {{ dbt.type_string() }}) as assertion
    from ({{ sql }}) as failing
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}
