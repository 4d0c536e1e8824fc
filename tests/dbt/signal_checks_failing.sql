{#- The CI gate on failing checks: each failing scorecard row, printed with its sentence.
    An error unless the var gate_on is none (macros/gate.sql). -#}
-- the report's causes read the scorecard too: built before the gate can stop the build
-- depends_on: {{ ref('rpt_check_causes') }}
{{ config(severity=gate_severity('fail')) }}
{{ scorecard_rows_with_status('fail') }}
