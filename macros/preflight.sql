{#- on-run-start: before anything builds, the raw tables the selected models read must exist.
    On a fresh warehouse that says in one sentence what to do, instead of an error per staging
    model and a skip for everything after. -#}
{% macro require_loaded_data() -%}
    {{ return(adapter.dispatch('require_loaded_data', 'signal_audit')()) }}
{%- endmacro %}
{% macro default__require_loaded_data() -%}
    {%- if execute -%}
        {%- set wanted, missing = [], [] -%}
        {%- for unique_id in selected_resources -%}
            {%- for parent in ((graph.nodes.get(unique_id) or {}).get('depends_on') or {}).get('nodes', []) -%}
                {%- set source = graph.sources.get(parent) -%}
                {%- if source is not none and parent not in wanted -%}
                    {%- do wanted.append(parent) -%}
                    {%- if adapter.get_relation(source.database, source.schema, source.identifier) is none -%}
                        {%- do missing.append(source.source_name ~ '.' ~ source.name) -%}
                    {%- endif -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- if missing -%}
            {%- set what = 'No data loaded yet' if missing | length == wanted | length
                           else (missing | sort | join(', ')) ~ ' not loaded yet' -%}
            {%- do exceptions.raise_compiler_error(
                what ~ ": run `signal-audit load` (or `make audit`) first, then `dbt build`.") -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
