{#- Small dispatch macros for the few things dbt's own cross-database macros don't cover.
    Each has a DuckDB implementation and a default in standard/Postgres-flavoured SQL, so a
    port to another adapter adds one variant here instead of editing models. -#}

{#- Text of a JSON scalar at `path` ('$.a.b'); JSON strings come back unquoted. -#}
{% macro json_value(json_expr, path) -%}
    {{ return(adapter.dispatch('json_value', 'signal_audit')(json_expr, path)) }}
{%- endmacro %}
{% macro duckdb__json_value(json_expr, path) -%}
    json_extract_string({{ json_expr }}, {{ path }})
{%- endmacro %}
{% macro default__json_value(json_expr, path) -%}
    jsonb_path_query_first(cast({{ json_expr }} as jsonb), cast({{ path }} as jsonpath)) #>> '{}'
{%- endmacro %}

{#- A FROM-clause fragment: one row per element of the JSON array at `path`, with columns
    `value` (element as JSON text) and `ordinality` (0-based position). -#}
{% macro json_array_rows(json_expr, path, alias) -%}
    {{ return(adapter.dispatch('json_array_rows', 'signal_audit')(json_expr, path, alias)) }}
{%- endmacro %}
{% macro duckdb__json_array_rows(json_expr, path, alias) -%}
    cross join lateral (
        select
            unnest(json_extract({{ json_expr }}, {{ path }} || '[*]')) as value,
            unnest(range(cast(json_array_length({{ json_expr }}, {{ path }}) as bigint))) as ordinality
    ) as {{ alias }}
{%- endmacro %}
{% macro default__json_array_rows(json_expr, path, alias) -%}
    cross join lateral (
        select cast(elem as text) as value, ord - 1 as ordinality
        from jsonb_array_elements(jsonb_path_query_first(cast({{ json_expr }} as jsonb), cast({{ path }} as jsonpath)))
            with ordinality as arr(elem, ord)
    ) as {{ alias }}
{%- endmacro %}

{#- The calendar day of a UTC timestamp in the reporting time zone (var reporting_timezone). -#}
{% macro local_date(ts_expr) -%}
    {{ return(adapter.dispatch('local_date', 'signal_audit')(ts_expr)) }}
{%- endmacro %}
{% macro duckdb__local_date(ts_expr) -%}
    cast(timezone('{{ var("reporting_timezone") }}', {{ ts_expr }}) as date)
{%- endmacro %}
{% macro default__local_date(ts_expr) -%}
    cast(({{ ts_expr }}) at time zone '{{ var("reporting_timezone") }}' as date)
{%- endmacro %}

{#- A UTC timestamp from Unix epoch seconds (numeric). -#}
{% macro epoch_to_timestamp(seconds_expr) -%}
    {{ return(adapter.dispatch('epoch_to_timestamp', 'signal_audit')(seconds_expr)) }}
{%- endmacro %}
{% macro duckdb__epoch_to_timestamp(seconds_expr) -%}
    to_timestamp(cast({{ seconds_expr }} as double))
{%- endmacro %}
{% macro default__epoch_to_timestamp(seconds_expr) -%}
    to_timestamp({{ seconds_expr }})
{%- endmacro %}

{#- Exact percentiles of `value` per `group_by` over the rows of `relation` (a CTE's name): a
    select of the group columns and one double column per entry of `fractions` (column name ->
    fraction 0-1), interpolated linearly between the two nearest ranks as SQL's percentile_cont
    and DuckDB's quantile_cont do. Rows are counted per distinct value first and the ranks
    summed over those counts, so every step is a grouped aggregate or a window, which spill to
    disk: a holistic aggregate holds every value of a group in memory, and over a year of a 10
    million order shop it ran out. The same SQL on every engine, so the same numbers. A group
    whose values are all null has no row. -#}
{% macro percentiles(relation, group_by, value, fractions) -%}
    {%- set groups = group_by | join(', ') -%}
    {%- set ranks = {} -%}
    {%- for name, fraction in fractions.items() -%}
        {#- the 0-based rank the percentile sits at, in doubles as the engines compute it -#}
        {%- do ranks.update({name: 'cast(' ~ fraction ~ ' as ' ~ type_double() ~ ') * cast(rows_total - 1 as '
                                    ~ type_double() ~ ')'}) -%}
    {%- endfor %}
    select
        {{ groups }},
        {%- for name in fractions %}
        cast(
            {{ name }}_low + ({{ name }}_high - {{ name }}_low) * ({{ ranks[name] }} - floor({{ ranks[name] }}))
            as {{ type_double() }}
        ) as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from (
        select
            {{ groups }},
            rows_total,
            {%- for name in fractions %}
            min(case when rows_up_to > floor({{ ranks[name] }}) then {{ value }} end) as {{ name }}_low,
            min(case when rows_up_to > ceil({{ ranks[name] }}) then {{ value }} end) as {{ name }}_high
            {{- ',' if not loop.last }}
            {%- endfor %}
        from (
            select
                {{ groups }},
                {{ value }},
                cast(sum(value_rows) over (
                    partition by {{ groups }} order by {{ value }} rows between unbounded preceding and current row
                ) as {{ dbt.type_bigint() }}) as rows_up_to,
                cast(sum(value_rows) over (partition by {{ groups }}) as {{ dbt.type_bigint() }}) as rows_total
            from (
                select
                    {{ groups }},
                    {{ value }},
                    count(*) as value_rows
                from {{ relation }}
                where {{ value }} is not null
                group by {{ groups }}, {{ value }}
            ) as counted
        ) as ranked
        group by {{ groups }}, rows_total
    ) as bounds
{%- endmacro %}

{#- A SQL list literal of strings from a Jinja list: ('a', 'b'). -#}
{% macro sql_string_list(values) -%}
    ({%- for v in values -%}'{{ v | replace("'", "''") }}'{%- if not loop.last -%}, {% endif -%}{%- endfor -%})
{%- endmacro %}

{#- True when the whole of `expr` matches the regular expression `pattern` (an expression). -#}
{% macro regex_full_match(expr, pattern) -%}
    {{ return(adapter.dispatch('regex_full_match', 'signal_audit')(expr, pattern)) }}
{%- endmacro %}
{% macro duckdb__regex_full_match(expr, pattern) -%}
    regexp_full_match({{ expr }}, {{ pattern }})
{%- endmacro %}
{% macro default__regex_full_match(expr, pattern) -%}
    ({{ expr }} ~ {{ pattern }})
{%- endmacro %}

{#- `expr` (text) as a double, or null when it is not a number. -#}
{% macro safe_to_double(expr) -%}
    {{ return(adapter.dispatch('safe_to_double', 'signal_audit')(expr)) }}
{%- endmacro %}
{% macro duckdb__safe_to_double(expr) -%}
    try_cast({{ expr }} as double)
{%- endmacro %}
{#- Elsewhere: what DuckDB's try_cast reads (a sign; digits, single underscores between them; a
    leading or trailing point; an exponent; inf, infinity and nan in any case; white space
    around), read through numeric so that a number beyond a double's range becomes an
    infinity or 0, as on DuckDB, instead of an error that stops the build. Text longer than
    1000 characters, or an exponent of five digits or more, is null here (numeric's limits;
    DuckDB reads them). -#}
{% macro default__safe_to_double(expr) -%}
    {%- set number = "cast(replace(regexp_replace(" ~ expr ~ ", '\\s', '', 'g'), '_', '') as numeric)" -%}
    case
        when {{ expr }} ~* '^\s*[-+]?(inf|infinity)\s*$'
            then case when {{ expr }} ~ '^\s*-' then -1 else 1 end * cast('Infinity' as double precision)
        when {{ expr }} ~* '^\s*[-+]?nan\s*$' then cast('NaN' as double precision)
        when length({{ expr }}) <= 1000
            and {{ expr }} ~ '^\s*[-+]?([0-9](_?[0-9])*([.]([0-9](_?[0-9])*)?)?|[.][0-9](_?[0-9])*)([eE][-+]?[0-9]{1,4})?\s*$'
            then case
                when abs({{ number }}) >= 1.797693134862315807937e308
                    then sign({{ number }}) * cast('Infinity' as double precision)
                when abs({{ number }}) < 2.4703282292062328e-324 then cast(0 as double precision)
                else cast({{ number }} as double precision)
            end
    end
{%- endmacro %}

{#- A double-precision float type (dbt.type_float() is single precision on DuckDB and Spark). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'signal_audit')()) }}
{%- endmacro %}
{% macro duckdb__type_double() -%}
    double
{%- endmacro %}
{% macro spark__type_double() -%}
    double
{%- endmacro %}
{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{#- `numerator / denominator` as a double on every engine. `1.0 * a / b` is a double on DuckDB
    but numeric on PostgreSQL (decimal on Spark), which the marts' contracts refuse; dividing
    in doubles gives DuckDB's exact result everywhere (its decimal division is a double one). -#}
{% macro ratio(numerator, denominator) -%}
    cast({{ numerator }} as {{ type_double() }}) / cast({{ denominator }} as {{ type_double() }})
{%- endmacro %}

{#- A double rounded to `digits` decimals, as a double. PostgreSQL rounds only numeric to a
    number of decimals (there is no round(double precision, integer)). -#}
{% macro round_double(expr, digits) -%}
    {{ return(adapter.dispatch('round_double', 'signal_audit')(expr, digits)) }}
{%- endmacro %}
{% macro default__round_double(expr, digits) -%}
    round({{ expr }}, {{ digits }})
{%- endmacro %}
{% macro postgres__round_double(expr, digits) -%}
    cast(round(cast({{ expr }} as numeric), {{ digits }}) as {{ type_double() }})
{%- endmacro %}

{#- Whole seconds from `start_ts` to `end_ts` (timestamps with time zone), counted as second
    boundaries crossed, like DuckDB's date_diff('second', ...). dbt's own datediff on
    PostgreSQL goes through the session's wall clock, which is an hour off across a daylight
    saving change when the server's time zone is not UTC; epochs have no wall clock. -#}
{% macro seconds_between(start_ts, end_ts) -%}
    {{ return(adapter.dispatch('seconds_between', 'signal_audit')(start_ts, end_ts)) }}
{%- endmacro %}
{% macro default__seconds_between(start_ts, end_ts) -%}
    {{ dbt.datediff(start_ts, end_ts, 'second') }}
{%- endmacro %}
{% macro postgres__seconds_between(start_ts, end_ts) -%}
    cast(floor(extract(epoch from {{ end_ts }})) - floor(extract(epoch from {{ start_ts }})) as bigint)
{%- endmacro %}
