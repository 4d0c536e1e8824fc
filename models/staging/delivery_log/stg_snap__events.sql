{#- Snap Conversions API v3: body {"data": [event, ...]}; customer information in
    `user_data`, purchase details in `custom_data`. The Snap pixel calls its dedup key
    `client_dedup_id`; v2 named the order `transaction_id`. A failed request answers
    {"status": "INVALID", "reason": ...}. -#}
{#- Incremental: flattening JSON is the costliest step of the audit, and a log line never
    changes (a changed line is a new record_id), so each line is flattened once. -#}
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='sync_all_columns') }}

with

events as (

    {{ delivery_log_events('snap') }}

),

fields as (

    select
        events.*,
        {{ json_fields('event_json', {
            'event_id': '$.event_id',
            'client_dedup_id': '$.client_dedup_id',
            'order_id': '$.custom_data.order_id',
            'transaction_id': '$.custom_data.transaction_id',
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
        {{ json_fields('response', {'response_status': '$.status', 'response_reason': '$.reason'}) }}
    from events

),

renamed as (

    select
        ----------  ids
        record_id || ':' || cast(event_index as {{ dbt.type_string() }}) as event_key,
        record_id,
        event_index,
        'snap' as platform,
        channel,
        pixel_id,
        coalesce(event_id, client_dedup_id) as event_id,
        coalesce(order_id, transaction_id) as order_ref,

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
        case
            when upper(response_status) = 'INVALID' then coalesce(response_reason, 'INVALID')
        end as platform_error,
        {{ is_request_accepted("case when upper(response_status) = 'INVALID' then 1 end") }} as is_request_accepted,

        ----------  lineage
        _dlt_load_id,
        _audited_at

    from fields

)

select * from renamed
