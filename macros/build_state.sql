{#- What the last builds built, so a run with nothing new can skip dbt and a daily run can skip
    seeds that did not change, without ever being stale.

    After every build (on-run-end), each node that succeeded records its state: the node's
    fingerprint (macros/fingerprint.sql: its file, the project macros it calls, the vars they
    read, and its parents' fingerprints) plus its config and docs, and the data the build saw
    (each raw table's row count and newest load). A node that failed or was skipped loses
    its row. `audit_build_state()` (`dbt run-operation audit_build_state`; the CLI runs it in
    the build's own dbt process, signal_audit/dbt_process.py) compares them with the project
    and the data as they are now:
      - current: every node dbt build would run recorded this state and this data, so a
        build would change nothing (the CLI skips it);
      - seeds_current: every seed recorded this state, so reloading them would load the same
        rows (the CLI then builds with seeds excluded).
    Seeds do not read data, so their rows are compared without the loads. -#}

{% macro build_state_relation() -%}
    {{ return(api.Relation.create(database=target.get('database'), schema=audit_schema('intermediate'), identifier='audit_build_state')) }}
{%- endmacro %}

{#- The nodes `dbt build` runs (unit tests aside: audits leave them to the test suite). -#}
{% macro built_nodes() -%}
    {%- set found = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type in ('model', 'seed', 'test', 'snapshot')
               and node.config.get('materialized') != 'ephemeral' -%}
            {%- do found.append(node) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do return(found) -%}
{%- endmacro %}

{#- A node's fingerprint (macros/fingerprint.sql) with its config and docs: a change of a
    materialization, a hook in dbt_project.yml or a column description (persisted as a comment)
    counts as a change too. -#}
{% macro node_state(node, memo) -%}
    {%- do return(local_md5(node_fingerprint(node.unique_id, memo) ~ '\n' ~ tojson(node.config, sort_keys=true)
                            ~ '\n' ~ (node.description or '') ~ '\n' ~ tojson(node.columns, sort_keys=true))) -%}
{%- endmacro %}

{#- The data the raw tables hold: per table, its rows and the newest load among them. (Not
    dlt's list of loads: a load that found no new file is a load too, and changes nothing.) -#}
{% macro loads_state() -%}
    {{ return(adapter.dispatch('loads_state', 'signal_audit')()) }}
{%- endmacro %}
{% macro default__loads_state() -%}
    {%- set tables = run_query(
        "select table_name, max(case when column_name = '_dlt_load_id' then 1 else 0 end) "
        ~ "from information_schema.columns where table_schema = '" ~ raw_schema() ~ "' and table_catalog = '"
        ~ target.database ~ "' and table_name not like '#_dlt%' escape '#' group by table_name order by table_name"
    ) -%}
    {%- set counts = [] -%}
    {%- for row in tables -%}
        {%- do counts.append("select '" ~ row[0] ~ "' || ' ' || count(*) || ' ' || "
                             ~ ("coalesce(max(_dlt_load_id), '')" if row[1] == 1 else "''")
                             ~ " from " ~ adapter.quote(raw_schema()) ~ "." ~ adapter.quote(row[0])) -%}
    {%- endfor -%}
    {%- set parts = run_query(counts | join(' union all ')).columns[0].values() | sort if counts else [] -%}
    {%- do return(local_md5(parts | join('\n'))) -%}
{%- endmacro %}

{#- on-run-end: record the state of every node this run built; forget the ones it did not
    finish (failed, errored, skipped). -#}
{% macro record_build_state(results) -%}
    {{ return(adapter.dispatch('record_build_state', 'signal_audit')(results)) }}
{%- endmacro %}
{% macro default__record_build_state(results) -%}
    {%- if execute -%}
        {%- set relation = build_state_relation() -%}
        {%- set memo, ids, done = {}, [], [] -%}
        {%- set loads = loads_state() -%}
        {%- for result in results -%}
            {%- set node = graph.nodes.get(result.node.unique_id) -%}
            {%- do ids.append("'" ~ result.node.unique_id ~ "'") -%}
            {%- if node is not none and result.status in ('success', 'pass', 'warn') -%}
                {%- do done.append("('" ~ node.unique_id ~ "', '" ~ node_state(node, memo) ~ "', '" ~ loads ~ "')") -%}
            {%- endif -%}
        {%- endfor -%}
        {#- the schema alone: PostgreSQL does not name a database in create schema -#}
        create schema if not exists {{ adapter.quote(relation.schema) }};
        create table if not exists {{ relation }} (
            node_id {{ dbt.type_string() }},
            node_state {{ dbt.type_string() }},
            loads_state {{ dbt.type_string() }}
        );
        {%- if ids %}
        delete from {{ relation }} where node_id in ({{ ids | join(', ') }});
        {%- endif %}
        {%- if done %}
        insert into {{ relation }} (node_id, node_state, loads_state) values {{ done | join(', ') }};
        {%- endif %}
    {%- endif -%}
{%- endmacro %}

{#- `dbt run-operation audit_build_state`: prints one JSON line, {"current": .., "seeds_current": ..,
    "stale_nodes": n}, comparing the recorded states with the project and loads as they are. -#}
{% macro audit_build_state() -%}
    {%- set recorded = {} -%}
    {%- set relation = build_state_relation() -%}
    {%- if adapter.get_relation(relation.database, relation.schema, relation.identifier) is not none -%}
        {%- for row in run_query("select node_id, node_state, loads_state from " ~ relation) -%}
            {%- do recorded.update({row[0]: (row[1], row[2])}) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set memo, stale, stale_seeds = {}, [], [] -%}
    {%- set loads = loads_state() if recorded else '' -%}
    {%- for node in built_nodes() -%}
        {%- set row = recorded.get(node.unique_id) -%}
        {%- set same = row is not none and row[0] == node_state(node, memo) -%}
        {%- if node.resource_type == 'seed' and not same -%}
            {%- do stale_seeds.append(node.unique_id) -%}
        {%- endif -%}
        {%- if not same or (node.resource_type != 'seed' and row[1] != loads) -%}
            {%- do stale.append(node.unique_id) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do print(tojson({'current': not stale, 'seeds_current': not stale_seeds, 'stale_nodes': stale | length})) -%}
{%- endmacro %}
