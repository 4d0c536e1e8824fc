{#- `dbt build` as a CI gate: two singular tests (tests/dbt/signal_checks_*.sql) read the
    scorecard and fail the build on a failing check, or only warn, as the var `gate_on` says:
      fail (default)  a failing check fails the build; a warning check is a dbt warning
      warn            a failing or a warning check fails the build
      none            both are dbt warnings (`signal-audit` builds with this: its own
                      `check` and `run --gate` decide what gates)
    A check without data (no_data) never fails the build here; `signal-audit run --gate` does. -#}

{% macro gate_on() -%}
    {%- set value = var('gate_on', 'fail') -%}
    {%- if value not in ['fail', 'warn', 'none'] -%}
        {%- do exceptions.raise_compiler_error(
            "The var gate_on must be fail, warn or none, got '" ~ value ~ "'.") -%}
    {%- endif -%}
    {%- do return(value) -%}
{%- endmacro %}

{#- The severity of the test on scorecard rows of `status` ('fail' or 'warn'). -#}
{% macro gate_severity(status) -%}
    {%- set gating = {'fail': ['fail'], 'warn': ['fail', 'warn'], 'none': []}[gate_on()] -%}
    {%- do return('error' if status in gating else 'warn') -%}
{%- endmacro %}

{#- The scorecard rows of `status`, each also printed in dbt's output (platform, check and its
    sentence) when the test runs, since dbt's own message only counts them. -#}
{% macro scorecard_rows_with_status(status) -%}
    {%- set scorecard = ref('rpt_signal_scorecard') -%}
    {%- if execute and invocation_args_dict.get('which') in ['build', 'test'] -%}
        {%- set rows = run_query(
            "select platform, check_name, summary from " ~ scorecard
            ~ " where status = '" ~ status ~ "' order by platform, check_name") -%}
        {%- for row in rows -%}
            {%- do log(status | upper ~ ' ' ~ row[0] ~ ' ' ~ row[1] ~ ': ' ~ row[2], info=True) -%}
        {%- endfor -%}
    {%- endif -%}
    select platform, check_name, status, summary
    from {{ scorecard }}
    where status = '{{ status }}'
{%- endmacro %}
