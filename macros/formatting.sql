{#- Number formatting for the scorecard's sentences. -#}

{#- 1234 -> '1,234' -#}
{% macro fmt_int(expr) -%}
    {{ return(adapter.dispatch('fmt_int', 'signal_audit')(expr)) }}
{%- endmacro %}
{% macro duckdb__fmt_int(expr) -%}
    format('{:,}', cast({{ expr }} as bigint))
{%- endmacro %}
{% macro default__fmt_int(expr) -%}
    trim(to_char(cast({{ expr }} as bigint), 'FM999,999,999,999'))
{%- endmacro %}

{#- 0.1234 -> '12.3%' -#}
{% macro fmt_pct(expr) -%}
    {{ return(adapter.dispatch('fmt_pct', 'signal_audit')(expr)) }}
{%- endmacro %}
{% macro duckdb__fmt_pct(expr) -%}
    format('{:.1f}%', 100.0 * ({{ expr }}))
{%- endmacro %}
{% macro default__fmt_pct(expr) -%}
    trim(to_char(100.0 * ({{ expr }}), 'FM9999990.0')) || '%'
{%- endmacro %}

{#- A date as 'YYYY-MM-DD' -#}
{% macro fmt_date(expr) -%}
    cast({{ expr }} as {{ dbt.type_string() }})
{%- endmacro %}

{#- 6.234 -> '6.2' (decimals digits) -#}
{% macro fmt_number(expr, decimals=1) -%}
    {{ return(adapter.dispatch('fmt_number', 'signal_audit')(expr, decimals)) }}
{%- endmacro %}
{% macro duckdb__fmt_number(expr, decimals) -%}
    format('{:.{{ decimals }}f}', {{ expr }})
{%- endmacro %}
{% macro default__fmt_number(expr, decimals) -%}
    trim(to_char({{ expr }}, 'FM9999990{% if decimals > 0 %}.{{ "0" * decimals }}{% endif %}'))
{%- endmacro %}
