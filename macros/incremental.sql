{#- How the incremental models find what changed, so a daily run costs a day, not the history.

    Raw rows carry the dlt load that wrote them (`_dlt_load_id`, increasing); staging picks up
    the loads after the newest one it holds. Every row an incremental model writes carries
    `_audited_at`, the start of the dbt run that wrote it; a downstream model's batch is the
    upstream rows written after its own last successful build (its watermark, recorded by a
    post-hook in intermediate.audit_watermarks). A model that failed or was not selected keeps
    its old watermark and catches up on its next build. Beside the watermark, the post-hook
    records the model's fingerprint (its SQL, macros, settings, seeds and upstream: see
    macros/fingerprint.sql); a model whose fingerprint changed is rebuilt in full. -#}

{#- The start of this dbt run, as a timestamp literal: the stamp of every row it writes. -#}
{% macro audit_run_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro watermarks_relation() -%}
    {{ return(api.Relation.create(database=target.get('database'), schema=audit_schema('intermediate'), identifier='audit_watermarks')) }}
{%- endmacro %}

{#- on-run-start: the table of watermarks exists before any model reads it (a warehouse built
    before fingerprints were recorded gains the column: its models rebuild in full once). -#}
{% macro create_watermarks_table() -%}
    {{ return(adapter.dispatch('create_watermarks_table', 'signal_audit')()) }}
{%- endmacro %}
{% macro default__create_watermarks_table() -%}
    {%- set relation = watermarks_relation() -%}
    {%- do adapter.create_schema(relation) -%}
    create table if not exists {{ relation }} (
        model_name {{ dbt.type_string() }},
        built_at {{ dbt.type_timestamp() }}
    );
    alter table {{ relation }} add column if not exists fingerprint {{ dbt.type_string() }}
{%- endmacro %}

{#- post-hook of every model: this run is its new watermark, built with these inputs. -#}
{% macro record_watermark() -%}
    {{ return(adapter.dispatch('record_watermark', 'signal_audit')()) }}
{%- endmacro %}
{% macro default__record_watermark() -%}
    delete from {{ watermarks_relation() }} where model_name = '{{ this.identifier }}';
    insert into {{ watermarks_relation() }} (model_name, built_at, fingerprint)
    values ('{{ this.identifier }}', {{ audit_run_at() }}, '{{ node_fingerprint(model.unique_id) if execute else '' }}')
{%- endmacro %}
{#- PostgreSQL plans from statistics that a new table or an incremental insert leaves stale
    until autovacuum comes round: the next model's filter on what changed since the last build
    is then estimated at one row and planned as a nested loop over the whole table (minutes
    per model on a year-long shop). Each table the build writes is analyzed as it is recorded. -#}
{% macro postgres__record_watermark() -%}
    {{ default__record_watermark() }}
    {%- if config.get('materialized') in ('table', 'incremental') %};
    analyze {{ this }}
    {%- endif %}
{%- endmacro %}

{#- A value from the warehouse, read when the model compiles, as a SQL literal; `default`
    when there is none. A literal (not a subquery) lets the engine skip whole blocks of a big
    table by their min/max, which is what keeps a one-day run from reading the history. -#}
{% macro compile_time_literal(sql, default) -%}
    {%- set value = none -%}
    {%- if execute -%}
        {%- set value = run_query(sql).columns[0].values()[0] -%}
    {%- endif -%}
    '{{ value if value is not none else default }}'
{%- endmacro %}

{#- True for upstream rows written after this model's last successful build. -#}
{% macro changed_since_last_build(stamp_column='_audited_at') -%}
    {{ stamp_column }} > cast({{ compile_time_literal(
        "select max(built_at) from " ~ watermarks_relation() ~ " where model_name = '" ~ this.identifier ~ "'",
        '1900-01-01 00:00:00'
    ) }} as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- True for raw rows from loads after the newest load this model holds. -#}
{% macro loaded_since_last_build(load_id_column='_dlt_load_id') -%}
    {{ load_id_column }} > {{ compile_time_literal("select max(_dlt_load_id) from " ~ this, '') }}
{%- endmacro %}

{#- The days of `day_kind` ('order' or 'event') that changed since this mart's last build. -#}
{% macro changed_days(day_kind) -%}
    select report_date from {{ ref('int_changed_days') }}
    where day_kind = '{{ day_kind }}' and {{ changed_since_last_build() }}
{%- endmacro %}

{#- A filter: in an incremental build, only rows whose `day_column` is a changed day. -#}
{% macro on_changed_days(day_column, day_kind) -%}
    {%- if is_incremental() -%}
        {{ day_column }} in ({{ changed_days(day_kind) }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- pre-hook of a daily mart: take out the days about to be rebuilt first, so a day left with
    no row at all does not keep its old one. -#}
{% macro delete_changed_days(day_kind) -%}
    {{ return(adapter.dispatch('delete_changed_days', 'signal_audit')(day_kind)) }}
{%- endmacro %}
{% macro default__delete_changed_days(day_kind) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where report_date in ({{ changed_days(day_kind) }})
    {%- endif -%}
{%- endmacro %}

{#- In an incremental build, a filter keeping `date_column` within the first and last day of
    `days_sql` (a query of one date column), read when the model compiles: a literal range lets
    the engine skip the blocks of a big table outside the days being rebuilt. `true` otherwise. -#}
{% macro within_days_of(date_column, days_sql) -%}
    {%- if is_incremental() and execute -%}
        {%- set bounds = run_query("select min(d), max(d) from (" ~ days_sql ~ ") as days(d)").rows[0] -%}
        {%- if bounds[0] is none -%}
            false
        {%- else -%}
            {{ date_column }} between cast('{{ bounds[0] }}' as date) and cast('{{ bounds[1] }}' as date)
        {%- endif -%}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
