{#- Plain `dbt build` is never stale. What an incremental model holds was computed with the SQL,
    settings and seeds of the builds that wrote it; when any of those changed, its next build
    is a full one. Each model's fingerprint is recorded beside its watermark
    (intermediate.audit_watermarks) by the post-hook; an incremental model whose recorded
    fingerprint differs from the current one (or that has none) is built as if new, and its
    rows, all stamped by this run, make every downstream incremental model rebuild the days
    they touch.

    A node's fingerprint hashes:
      - its own file (dbt's checksum: a model's SQL, a seed's rows),
      - the code of the project macros it calls, and of the macros those call,
      - the values of the vars its code and those macros read (`var('name')`: a var read
        under a computed name is not seen),
      - the fingerprints of the nodes it reads (ref, source), so a change upstream reaches it. -#}

{#- dbt's own decision, plus: an incremental model whose inputs changed since its last build. -#}
{% macro should_full_refresh() -%}
    {%- set configured = config.get('full_refresh') -%}
    {%- if configured is not none -%}
        {%- do return(configured) -%}
    {%- endif -%}
    {%- if flags.FULL_REFRESH -%}
        {%- do return(true) -%}
    {%- endif -%}
    {%- do return(execute and model.resource_type == 'model'
                  and config.get('materialized') == 'incremental'
                  and recorded_fingerprint() != node_fingerprint(model.unique_id)) -%}
{%- endmacro %}

{#- The fingerprint this model's last successful build recorded; none when there is none. -#}
{% macro recorded_fingerprint() -%}
    {%- set found = run_query(
        "select max(fingerprint) from " ~ watermarks_relation()
        ~ " where model_name = '" ~ this.identifier ~ "'"
    ).columns[0].values() -%}
    {%- do return(found[0] if found else none) -%}
{%- endmacro %}

{#- The fingerprint of the node `unique_id` as the project stands now (see the top). -#}
{% macro node_fingerprint(unique_id, memo=none) -%}
    {%- set memo = {} if memo is none else memo -%}
    {%- if unique_id not in memo -%}
        {%- set node = graph.nodes.get(unique_id) or graph.sources.get(unique_id) -%}
        {%- if node is none -%}
            {%- do memo.update({unique_id: unique_id}) -%}
        {%- else -%}
            {%- set code = node.get('raw_code') or '' -%}
            {%- set macros = project_macros_called(code, []) -%}
            {%- set texts = [node.unique_id, (node.get('checksum') or {}).get('checksum', '')] -%}
            {%- for name in macros | sort -%}
                {%- do texts.append(name ~ '=' ~ context[name].macro.macro_sql) -%}
                {%- set code = code ~ context[name].macro.macro_sql -%}
            {%- endfor -%}
            {%- for name in modules.re.findall("var\(\s*['\"](\w+)['\"]", code) | unique | sort -%}
                {%- set value = var(name, none) -%}
                {#- tojson gives none for what JSON cannot hold (a date from --vars YAML) -#}
                {%- do texts.append('var ' ~ name ~ '=' ~ (tojson(value) or value | string)) -%}
            {%- endfor -%}
            {%- for parent in (node.get('depends_on') or {}).get('nodes', []) | sort -%}
                {%- do texts.append(node_fingerprint(parent, memo)) -%}
            {%- endfor -%}
            {%- do memo.update({unique_id: local_md5(texts | join('\n'))}) -%}
        {%- endif -%}
    {%- endif -%}
    {%- do return(memo[unique_id]) -%}
{%- endmacro %}

{#- The names of this project's macros that `code` calls, directly or through other macros;
    dbt's depends_on misses the calls inside an `is_incremental()` branch, which parsing skips. -#}
{% macro project_macros_called(code, found) -%}
    {%- for name in modules.re.findall("(\w+)\s*\(", code) | unique -%}
        {%- set candidate = context.get(name) -%}
        {%- if name not in found and candidate is not none and candidate.macro is defined
               and candidate.macro.package_name == 'signal_audit' -%}
            {%- do found.append(name) -%}
            {%- do project_macros_called(candidate.macro.macro_sql, found) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do return(found) -%}
{%- endmacro %}
