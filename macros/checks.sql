{#- Helpers shared by the int_check__<name> models. -#}

{#- True when `date_expr` falls in the audit window (int_audit_window). -#}
{% macro in_audit_window(date_expr) -%}
    {{ date_expr }} between (select window_start from {{ ref('int_audit_window') }})
        and (select window_end from {{ ref('int_audit_window') }})
{%- endmacro %}

{#- The audited platforms (var platforms) with their display names: every check has a row
    for each, so a platform without data says no_data rather than vanishing. -#}
{% macro audited_platforms() -%}
    select platform, display_name
    from {{ ref('platforms') }}
    where platform in {{ sql_string_list(var('platforms')) }}
{%- endmacro %}

{#- The window columns of every scorecard row. -#}
{% macro window_columns() -%}
    (select window_start from {{ ref('int_audit_window') }}) as window_start,
    (select window_end from {{ ref('int_audit_window') }}) as window_end
{%- endmacro %}

{#- "1 order" / "2 orders" -#}
{% macro plural(count_expr, singular, plural_word) -%}
    {{ fmt_int(count_expr) }} || case when {{ count_expr }} = 1 then ' {{ singular }}' else ' {{ plural_word }}' end
{%- endmacro %}
