{#- Where customer data was found in an event, outside its must-hash keys, and redacted on load
    (pipelines/log_lines.py, landed in raw.delivery_event_pii): one row per event, place and
    kind. An e-mail address or phone number in the page URL, external_id, custom data or any
    unknown field; plaintext in a must-hash key written in another case (`EM`); what the line's
    response held counts with its first event. What is detected, and what cannot be, is in
    docs/inputs.md. A view: few events carry findings, and only the pii_hashing check reads them. -#}
{{ config(materialized='view') }}

with

findings as (

    select
        record_id,
        event_index,
        place,
        kind,
        values_found
    from {{ source('raw', 'delivery_event_pii') }}

)

select
    events.event_key,
    events.platform,
    events.channel,
    events.event_name,
    events.event_date,
    findings.place,
    findings.kind,
    cast(findings.values_found as {{ dbt.type_bigint() }}) as values_found
from findings
inner join {{ ref('int_events') }} as events
    on
        findings.record_id = events.record_id
        and findings.event_index = events.event_index
