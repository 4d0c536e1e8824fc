{#- Use the custom schema name as is (staging, intermediate, marts, reference) rather than
    dbt's default "<target schema>_<custom>": analysts query marts.fct_..., not main_marts.

    dbt names a package's nodes with the package's own generate_schema_name when it has one
    (dbt/parser/base.py, RelationUpdate), so installed as a package in another project
    (`project_name` is then the host's), this defers to the host's naming: its own
    generate_schema_name if it has one, else dbt's default (<target schema>_marts). -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if project_name != 'signal_audit' -%}
        {%- set host = context.get(project_name) or {} -%}
        {%- if host.get('generate_schema_name') is not none -%}
            {{ host.generate_schema_name(custom_schema_name, node) }}
        {%- else -%}
            {{ dbt.default__generate_schema_name(custom_schema_name, node) }}
        {%- endif -%}
    {%- elif custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
