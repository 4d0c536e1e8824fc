{#- The CI gate on failing checks: each failing scorecard row, printed with its sentence.
    An error unless the var gate_on is none (macros/gate.sql). -#}
{{ config(severity=gate_severity('fail')) }}
{{ scorecard_rows_with_status('fail') }}
