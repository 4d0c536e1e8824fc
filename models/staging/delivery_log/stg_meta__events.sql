{#- Meta Conversions API (and the Meta pixel's parameters for browser lines):
    body {"data": [event, ...]}; event fields at the top level, customer information in
    `user_data`, purchase details in `custom_data`. A failed request answers {"error": {...}}. -#}
{#- Incremental: flattening JSON is the costliest step of the audit, and a log line never
    changes (a changed line is a new record_id), so each line is flattened once. -#}
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='sync_all_columns') }}

with

events as (

    {{ delivery_log_events('meta') }}

),

fields as (

    select
        events.*,
        {{ json_fields('event_json', {
            'event_id': '$.event_id',
            'order_ref': '$.custom_data.order_id',
            'event_name': '$.event_name',
            'event_time_raw': '$.event_time',
            'action_source': '$.action_source',
            'event_source_url': '$.event_source_url',
            'value_raw': '$.custom_data.value',
            'currency_raw': '$.custom_data.currency',
        }) }},
        {{ json_fragments('event_json', {
            'user_json': '$.user_data',
            'properties_json': '$.custom_data',
            'value_json': '$.custom_data.value',
        }) }},
        {{ json_fields('response', {'platform_error': '$.error.message', 'error_json': '$.error'}) }}
    from events

),

renamed as (

    select
        ----------  ids
        record_id || ':' || cast(event_index as {{ dbt.type_string() }}) as event_key,
        record_id,
        event_index,
        'meta' as platform,
        channel,
        pixel_id,
        event_id,
        order_ref,

        ----------  event
        event_name,
        event_time_raw,
        action_source,
        event_source_url,

        ----------  purchase details
        value_raw,
        {{ json_kind('value_json', "'$'") }} as value_json_type,
        currency_raw,

        ----------  payload parts kept as JSON text
        user_json,
        properties_json,

        ----------  customer data redacted on load (outside the must-hash keys)
        pii_json,

        ----------  delivery
        sent_at,
        http_status,
        platform_error,
        {{ is_request_accepted('error_json') }} as is_request_accepted,

        ----------  lineage
        _dlt_load_id,
        _audited_at

    from fields

)

select * from renamed
