{#- The CI gate on checks that warn: a dbt warning, an error when the var gate_on is warn
    (macros/gate.sql). -#}
{{ config(severity=gate_severity('warn')) }}
{{ scorecard_rows_with_status('warn') }}
