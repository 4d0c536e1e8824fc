{#- Where customer data was found in an event, outside its must-hash keys, and redacted on load
    (pipelines/log_lines.py): one row per event, place and kind. An e-mail address or phone
    number in the page URL, external_id, custom data or any unknown field; plaintext in a
    must-hash key written in another case (`EM`); what the line's response held counts with
    its first event. What is detected, and what cannot be, is in docs/inputs.md.
    A view: few events carry findings, and only the pii_hashing check reads them. -#}
{{ config(materialized='view') }}

with

events as (

    select event_key, platform, channel, event_name, event_date, pii_json
    from {{ ref('int_events') }}
    where pii_json is not null

),

findings as (

    select
        events.event_key,
        events.platform,
        events.channel,
        events.event_name,
        events.event_date,
        {{ json_fields('finding.value', {'place': '$.place', 'kind': '$.kind', 'values_found': '$.values'}) }}
    from events
    {{ json_array_rows('events.pii_json', "'$'", 'finding') }}

)

select
    event_key,
    platform,
    channel,
    event_name,
    event_date,
    place,
    kind,
    cast(values_found as {{ dbt.type_bigint() }}) as values_found
from findings
