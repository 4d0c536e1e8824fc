{#- The one rule that turns a check's metric into its verdict: pass, warn, fail or no_data.
    Every check__<name> model calls it with its bounds read from the checks seed and
    audit_settings (check_bounds() in macros/checks.sql), so a threshold and its comparison
    live in one place. All arguments are SQL expressions; `direction` is usually the seed's
    column, so the rule is data too:
      at_least  pass when metric >= pass_bound; warn when >= floor_bound; else fail
      at_most   pass when metric <= pass_bound; warn when <= floor_bound; else fail
      within    pass when abs(metric) < pass_bound (strict: the gap fails at |gap| >= bound);
                warn when abs(metric) < floor_bound; else fail
    A null floor_bound means no warn band. `warn_when` (optional) turns a pass into a warn
    (timeliness: any event too old for the platform). No data, or no metric, is no_data, never
    pass. A check without a seed row (no direction) fails: it cannot pass undeclared. -#}
{% macro check_status(metric, direction, pass_bound, floor_bound, has_data, warn_when=none) -%}
    {%- set not_warned = '' if warn_when is none else ' and not (' ~ warn_when ~ ')' -%}
    case
        when not coalesce({{ has_data }}, false) or {{ metric }} is null then 'no_data'
        when {{ direction }} = 'at_least' then
            case
                when {{ metric }} >= {{ pass_bound }}{{ not_warned }} then 'pass'
                when {{ metric }} >= coalesce({{ floor_bound }}, {{ pass_bound }}) then 'warn'
                else 'fail'
            end
        when {{ direction }} = 'at_most' then
            case
                when {{ metric }} <= {{ pass_bound }}{{ not_warned }} then 'pass'
                when {{ metric }} <= coalesce({{ floor_bound }}, {{ pass_bound }}) then 'warn'
                else 'fail'
            end
        when {{ direction }} = 'within' then
            case
                when abs({{ metric }}) < {{ pass_bound }}{{ not_warned }} then 'pass'
                when abs({{ metric }}) < coalesce({{ floor_bound }}, {{ pass_bound }}) then 'warn'
                else 'fail'
            end
        else 'fail'
    end
{%- endmacro %}
