{#- The CI gate on checks that warn: a dbt warning, an error when the var gate_on is warn
    (macros/gate.sql). -#}
-- the report's causes read the scorecard too: built before the gate can stop the build
-- depends_on: {{ ref('rpt_check_causes') }}
{{ config(severity=gate_severity('warn')) }}
{{ scorecard_rows_with_status('warn') }}
