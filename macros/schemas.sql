{#- Where this project's tables are, whoever names the schemas. Standalone, its own naming puts
    a layer in the schema of that name (intermediate, reference); installed as a package, the
    host project's naming does (macros/generate_schema_name.sql; dbt's default:
    <target schema>_intermediate), and the raw tables are where the var
    signal_audit_raw_schema says. So the macros that reach a table outside ref() and source()
    (watermarks, build state, seeds read at compile time) ask the graph, never a literal. -#}

{#- The schema dbt gave this project's nodes configured with `+schema: custom_schema`. -#}
{% macro audit_schema(custom_schema) -%}
    {%- if execute -%}
        {#- (a unit test's graph has no nodes) -#}
        {%- for node in (graph.get('nodes') or {}).values()
               if node.package_name == 'signal_audit' and node.config.get('schema') == custom_schema -%}
            {%- do return(node.schema) -%}
        {%- endfor -%}
    {%- endif -%}
    {#- parsing, or a unit test: dbt's naming without the node (macros/generate_schema_name.sql) -#}
    {%- do return(generate_schema_name(custom_schema, none) | trim) -%}
{%- endmacro %}

{#- The schema of the raw tables the loader landed (source `raw`, models/staging/_raw__sources.yml). -#}
{% macro raw_schema() -%}
    {%- if execute -%}
        {%- for source in (graph.get('sources') or {}).values()
               if source.package_name == 'signal_audit' and source.source_name == 'raw' -%}
            {%- do return(source.schema) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- do return(var('signal_audit_raw_schema', 'raw')) -%}
{%- endmacro %}
