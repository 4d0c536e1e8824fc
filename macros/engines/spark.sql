{#- Apache Spark (dbt-spark, `session` method, Parquet tables; issue 13): the spark__ variants of
    the project's dispatch macros, and the few dbt / dbt-spark macros Spark needs overridden.
    Kept in one file so the Spark port reads in one place; see profiles.yml (output `spark`) for the
    target and its folders.

    What shapes this file:
      - tables are Parquet (Delta and Iceberg jars come from Maven, unreachable here), so no
        DELETE, UPDATE or MERGE: what DuckDB deletes, Spark replaces by partition (insert
        overwrite) or drops by partition (alter table ... drop partition);
      - a hook sends exactly one statement, so multi-statement hooks run their statements
        with run_query and render to nothing;
      - Spark has no information_schema and no database level above schemas. -#}


{#- ---------------------------------------------------------------- cross_db.sql -#}

{% macro spark__json_value(json_expr, path) -%}
    get_json_object({{ json_expr }}, {{ path }})
{%- endmacro %}

{#- from_json(..., 'array<string>') keeps an element that is an object or array as its JSON text -#}
{% macro spark__json_array_rows(json_expr, path, alias) -%}
    cross join lateral posexplode(
        from_json(get_json_object({{ json_expr }}, {{ path }}), 'array<string>')
    ) as {{ alias }} (ordinality, value)
{%- endmacro %}

{#- timestamps are UTC instants (the profile sets spark.sql.session.timeZone to UTC) -#}
{% macro spark__local_date(ts_expr) -%}
    to_date(from_utc_timestamp({{ ts_expr }}, '{{ var("reporting_timezone") }}'))
{%- endmacro %}

{% macro spark__epoch_to_timestamp(seconds_expr) -%}
    timestamp_seconds(cast({{ seconds_expr }} as double))
{%- endmacro %}

{#- rlike finds; anchoring the whole pattern makes it a full match -#}
{% macro spark__regex_full_match(expr, pattern) -%}
    ({{ expr }} rlike concat('^(?:', {{ pattern }}, ')$'))
{%- endmacro %}

{% macro spark__safe_to_double(expr) -%}
    try_cast({{ expr }} as double)
{%- endmacro %}


{#- ---------------------------------------------------------------- formatting.sql -#}

{% macro spark__fmt_int(expr) -%}
    format_number(cast({{ expr }} as bigint), 0)
{%- endmacro %}

{#- format_string refuses decimals (a `100.0 * x` is one on Spark): doubles only -#}
{% macro spark__fmt_pct(expr) -%}
    format_string('%.1f%%', 100.0D * cast({{ expr }} as double))
{%- endmacro %}

{% macro spark__fmt_number(expr, decimals) -%}
    format_string('%.{{ decimals }}f', cast({{ expr }} as double))
{%- endmacro %}


{#- ---------------------------------------------------------------- dbt's own macros -#}

{#- Spark 4 has listagg ... within group (order by); dbt-spark's variant drops the order with a
    warning, which would make the scorecard's lists come out in any order. -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
        {%- do exceptions.raise_compiler_error("listagg with limit_num is not implemented for Spark") -%}
    {%- endif -%}
    listagg({{ measure }}, {{ delimiter_text }})
    {%- if order_by_clause %} within group ({{ order_by_clause }}){% endif %}
{%- endmacro %}

{#- A model contract's not_null constraints: dbt-spark sets them with ALTER COLUMN ... SET NOT
    NULL, which only Delta tables support; on Parquet the contract still checks the column
    names and types, and the not_null data tests in the YAML check the values. -#}
{% macro spark__persist_constraints(relation, model) %}
    {%- if config.get('file_format', 'parquet') == 'delta' -%}
        {%- do dbt.spark__persist_constraints(relation, model) -%}
    {%- endif -%}
{% endmacro %}

{#- dbt-spark's session seeds pass every value through `sql % bindings` quoted as '<value>':
    an apostrophe in a value breaks the statement and an empty cell becomes the text 'None'.
    The rows are written as literals here instead: null for empty, strings with backslash
    escapes (Spark's string literal syntax). -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set batch_size = get_batch_size() -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(batch_size) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for col_name in agate_table.column_names -%}
                    {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) -%}
                    {%- set type = column_override.get(col_name, inferred_type) -%}
                    cast({{ spark_literal(row[loop.index0]) }} as {{ type }})
                    {%- if not loop.last %}, {% endif -%}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {% endfor -%}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.index0 == 0 -%}
            {%- do statements.append(sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{% endmacro %}

{#- A Python value of a seed cell as a Spark SQL literal. -#}
{% macro spark_literal(value) -%}
    {%- if value is none -%}
        null
    {%- elif value is sameas true or value is sameas false -%}
        {{ 'true' if value else 'false' }}
    {%- elif value is number -%}
        {{ value }}
    {%- else -%}
        '{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}


{#- ---------------------------------------------------------------- preflight.sql -#}

{#- The raw data is Parquet files in a lake folder, written by dlt's filesystem destination
    (`signal-audit load --target spark`; signal_audit_core/lake.py): dlt's dataset folder `raw`
    holds one folder per table, <lake>/raw/<table>/<load_id>.<file_id>.parquet (dlt's own
    _dlt_* tables beside them are JSONL and are not registered). Each table the project reads
    is registered as an external Parquet table raw.<table> over its folder, then the preflight
    checks as everywhere. It is dropped and registered again on every build (metadata only:
    the files stay), so a column a later load added is read, and a new process lists the
    folders again, so files landed since the last build are read. Every load writes a file for
    every table, empty if need be (Spark cannot infer the columns of an empty folder). -#}
{% macro spark__require_loaded_data() -%}
    {%- if execute -%}
        {%- set lake = env_var('SIGNAL_AUDIT_RAW_LAKE', env_var('SIGNAL_AUDIT_SPARK_DIR', 'warehouse/spark') ~ '/lake') -%}
        {#- the lake's folder is dlt's dataset `raw`; the tables go where the source says
            (var signal_audit_raw_schema, macros/schemas.sql) -#}
        {%- set schema = raw_schema() -%}
        {%- do run_query('create database if not exists ' ~ schema) -%}
        {%- for source in graph.sources.values()
               if source.package_name == 'signal_audit' and source.source_name == 'raw' -%}
            {%- do run_query('drop table if exists ' ~ schema ~ '.' ~ source.identifier) -%}
            {%- do run_query(
                "create table " ~ schema ~ "." ~ source.identifier
                ~ " using parquet location '" ~ lake ~ "/raw/" ~ source.identifier ~ "'") -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(default__require_loaded_data()) }}
{%- endmacro %}


{#- ---------------------------------------------------------------- incremental.sql -#}

{#- One partition per model: recording a watermark replaces the model's partition, one
    statement (a Parquet table has no delete). Written as a dynamic partition overwrite (the
    profile sets partitionOverwriteMode=dynamic): each job then stages its files in a folder of
    its own, where a static `partition (model_name = '...')` insert uses the table's shared
    _temporary folder, and two models finishing at once with threads: 2 broke each other's
    write (FileNotFoundException on .../audit_watermarks/_temporary/0). -#}
{% macro spark__create_watermarks_table() -%}
    {%- set relation = watermarks_relation() -%}
    {%- do adapter.create_schema(relation) -%}
    create table if not exists {{ relation }} (
        built_at {{ dbt.type_timestamp() }},
        fingerprint {{ dbt.type_string() }},
        model_name {{ dbt.type_string() }}
    ) using parquet partitioned by (model_name)
{%- endmacro %}

{% macro spark__record_watermark() -%}
    insert overwrite table {{ watermarks_relation() }} partition (model_name)
    select {{ audit_run_at() }}, '{{ node_fingerprint(model.unique_id) if execute else '' }}', '{{ this.identifier }}'
{%- endmacro %}

{#- The daily marts are partitioned by report_date on Spark (daily_mart_partition_by); their
    changed days are dropped before the days are written again (insert_overwrite would keep a
    day that is left with no row at all). -#}
{% macro spark__delete_changed_days(day_kind) -%}
    {%- if is_incremental() and execute -%}
        {%- set days = run_query(changed_days(day_kind)).columns[0].values() | unique | list -%}
        {%- if days -%}
            alter table {{ this }} drop if exists
            {% for day in days | sort -%}
                partition (report_date = date'{{ day }}'){{ ',' if not loop.last }}
            {% endfor -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- The incremental strategy of the daily marts: on Spark, insert_overwrite of their
    report_date partitions; elsewhere append after the pre-hook's delete. -#}
{% macro daily_mart_strategy() -%}
    {{ return('insert_overwrite' if target.type == 'spark' else 'append') }}
{%- endmacro %}
{% macro daily_mart_partition_by() -%}
    {{ return(['report_date'] if target.type == 'spark' else none) }}
{%- endmacro %}


{#- ---------------------------------------------------------------- build_state.sql -#}

{#- No information_schema: the raw tables are the registered ones (raw_schema()), their columns read
    through the adapter. -#}
{% macro spark__loads_state() -%}
    {%- set counts = [] -%}
    {#- show tables lists the session's temporary views too, whatever the schema -#}
    {%- set tables = [] -%}
    {%- set schema = raw_schema() -%}
    {%- for row in run_query('show tables in ' ~ schema) if not row[2] -%}
        {%- do tables.append(row[1]) -%}
    {%- endfor -%}
    {%- for table in tables | sort -%}
        {%- set relation = api.Relation.create(schema=schema, identifier=table) -%}
        {%- if not table.startswith('_dlt') -%}
            {%- set has_load = adapter.get_columns_in_relation(relation) | selectattr('name', 'equalto', '_dlt_load_id') | list -%}
            {%- do counts.append("select concat('" ~ relation.identifier ~ "', ' ', count(*), ' ', "
                                 ~ ("coalesce(max(_dlt_load_id), '')" if has_load else "''")
                                 ~ ") from " ~ schema ~ "." ~ relation.identifier) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set parts = run_query(counts | join(' union all ')).columns[0].values() | sort if counts else [] -%}
    {%- do return(local_md5(parts | join('\n'))) -%}
{%- endmacro %}

{#- One partition per node: the states of this run's nodes replace theirs (dynamic partition
    overwrite), the nodes that did not finish lose theirs (drop partition). Run statement by
    statement; the hook itself renders to nothing. -#}
{% macro spark__record_build_state(results) -%}
    {%- if execute -%}
        {%- set relation = build_state_relation() -%}
        {%- set memo, failed, done = {}, [], [] -%}
        {%- set loads = loads_state() -%}
        {%- for result in results -%}
            {%- set node = graph.nodes.get(result.node.unique_id) -%}
            {%- if node is not none and result.status in ('success', 'pass', 'warn') -%}
                {%- do done.append("('" ~ node_state(node, memo) ~ "', '" ~ loads ~ "', '" ~ node.unique_id ~ "')") -%}
            {%- else -%}
                {%- do failed.append("partition (node_id = '" ~ result.node.unique_id ~ "')") -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do adapter.create_schema(relation) -%}
        {%- do run_query(
            "create table if not exists " ~ relation ~ " (node_state string, loads_state string, node_id string)"
            ~ " using parquet partitioned by (node_id)") -%}
        {%- if failed -%}
            {%- do run_query("alter table " ~ relation ~ " drop if exists " ~ failed | join(', ')) -%}
        {%- endif -%}
        {%- if done -%}
            {%- do run_query("set spark.sql.sources.partitionOverwriteMode = DYNAMIC") -%}
            {%- do run_query("insert overwrite table " ~ relation ~ " partition (node_id) values " ~ done | join(', ')) -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#- ---------------------------------------------------------------- delete+insert on Parquet -#}

{#- dbt-spark offers append, insert_overwrite, merge (Delta, Iceberg, Hudi only) and microbatch.
    The intermediate models keyed by order or event (int_orders, int_event_orders,
    int_order_deliveries, int_event_hash_checks) replace the rows of the keys in their batch:
    delete+insert. On Parquet it is done here by writing the new content of what changes (the
    batch, plus the old rows of the touched partitions whose key is not in it; without a
    partition_by, of the whole table) to a side table first, then overwriting the table's
    partitions with it: the batch may read the table itself (int_orders reads its rows'
    previous dates). On Spark those models are partitioned by their day
    (keyed_partition_by), so a daily run rewrites the days it touches, not the history. -#}
{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) %}
    {%- if raw_strategy == 'delete+insert' -%}
        {%- if not config.get('unique_key') -%}
            {%- do exceptions.raise_compiler_error("delete+insert on Spark needs a unique_key") -%}
        {%- endif -%}
        {%- do return(raw_strategy) -%}
    {%- endif -%}
    {%- do return(dbt.dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format)) -%}
{% endmacro %}

{% macro dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates) %}
    {%- if strategy != 'delete+insert' -%}
        {%- do return(dbt.dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates)) -%}
    {%- endif -%}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    {%- set partition_by = config.get('partition_by') -%}
    {%- set partition_by = [partition_by] if partition_by is string else partition_by -%}
    {%- set side = target.incorporate(path={'identifier': target.identifier ~ '__dbt_new'}) -%}
    {%- set columns = adapter.get_columns_in_relation(target) | map(attribute='quoted') | join(', ') -%}
    {%- set not_in_batch = 'not exists (select 1 from ' ~ source ~ ' as batch where ' ~ spark_key_match(keys) ~ ')' -%}
    {%- do run_query('drop table if exists ' ~ side) -%}
    {%- if not partition_by -%}
        {#- unpartitioned: the whole table is written again -#}
        {%- do run_query('create table ' ~ side ~ ' using parquet as select ' ~ columns ~ ' from ' ~ source
                         ~ ' union all select ' ~ columns ~ ' from ' ~ target ~ ' as old where ' ~ not_in_batch) -%}
        {%- do run_query('insert overwrite table ' ~ target ~ ' select ' ~ columns ~ ' from ' ~ side) -%}
    {%- else -%}
        {#- partitioned (one column): only the touched partitions are written again: those of the
            batch's rows and those where the batch's keys were before (a re-dated order leaves
            its old day). A touched partition left with no row is dropped after. -#}
        {%- set p = partition_by[0] -%}
        {%- set touched = run_query(
            'select distinct ' ~ p ~ ' from ' ~ source ~ ' union select distinct old.' ~ p ~ ' from '
            ~ target ~ ' as old where exists (select 1 from ' ~ source ~ ' as batch where ' ~ spark_key_match(keys) ~ ')'
        ).columns[0].values() | list -%}
        {%- set literals = [] -%}
        {%- for v in touched if v is not none -%}
            {%- do literals.append("'" ~ v ~ "'") -%}
        {%- endfor -%}
        {%- set in_touched = ('old.' ~ p ~ ' in (' ~ literals | join(', ') ~ ')' if literals else 'false')
                             ~ (' or old.' ~ p ~ ' is null' if none in touched else '') -%}
        {%- do run_query('create table ' ~ side ~ ' using parquet as select ' ~ columns ~ ' from ' ~ source
                         ~ ' union all select ' ~ columns ~ ' from ' ~ target ~ ' as old where (' ~ in_touched ~ ') and ' ~ not_in_batch) -%}
        {%- set kept = run_query('select distinct ' ~ p ~ ' from ' ~ side).columns[0].values() | list -%}
        {%- do run_query('set spark.sql.sources.partitionOverwriteMode = DYNAMIC') -%}
        {%- do run_query('insert overwrite table ' ~ target ~ ' partition (' ~ p ~ ') select ' ~ columns ~ ' from ' ~ side) -%}
        {%- set emptied = [] -%}
        {%- for v in touched if v is not none and v not in kept -%}
            {%- do emptied.append('partition (' ~ p ~ " = '" ~ v ~ "')") -%}
        {%- endfor -%}
        {%- if emptied -%}
            {%- do run_query('alter table ' ~ target ~ ' drop if exists ' ~ emptied | join(', ')) -%}
        {%- endif -%}
    {%- endif -%}
    drop table if exists {{ side }}
{% endmacro %}

{% macro spark_key_match(keys) -%}
    {%- for key in keys -%}
        batch.{{ key }} = old.{{ key }}{{ ' and ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}


{#- The partitioning of a model kept by delete+insert: its day column on Spark (see above),
    none elsewhere. -#}
{% macro keyed_partition_by(day_column) -%}
    {{ return([day_column] if target.type == 'spark' else none) }}
{%- endmacro %}
