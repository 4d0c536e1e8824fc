{#- Helpers shared by the check__<name> models (models/scorecard/checks/). -#}

{#- The bounds of one check, one row: its direction (seeds/checks.csv) and the values in force
    of the settings its seed row names (pass_setting, floor_setting) from audit_settings, so
    a threshold lives in one place and the verdict (check_status) reads it in SQL. Join it
    with `left join ... on 1 = 1`: a check the seed does not declare keeps its rows (and
    fails, see check_status), so the scorecard test names it instead of losing it. -#}
{% macro check_bounds(check_name) -%}
    select
        checks.check_name,
        checks.direction,
        pass_setting.numeric_value as pass_bound,
        floor_setting.numeric_value as floor_bound
    from {{ ref('checks') }} as checks
    left join {{ ref('audit_settings') }} as pass_setting
        on checks.pass_setting = pass_setting.setting_name
    left join {{ ref('audit_settings') }} as floor_setting
        on checks.floor_setting = floor_setting.setting_name
    where checks.check_name = '{{ check_name }}'
{%- endmacro %}

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
