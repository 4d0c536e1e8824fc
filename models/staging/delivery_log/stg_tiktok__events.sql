{#- TikTok Events API 2.0: body {"event_source": "web", "event_source_id": <pixel code>,
    "data": [event, ...]}; the event name is `event`, customer information in `user`,
    purchase details in `properties`, the page in `page.url`. Business errors come back with
    HTTP 200 and a non-zero `code`. -#}
{#- Incremental: flattening JSON is the costliest step of the audit, and a log line never
    changes (a changed line is a new record_id), so each line is flattened once. -#}
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='sync_all_columns') }}

with

events as (

    {{ delivery_log_events('tiktok') }}

),

fields as (

    select
        events.*,
        {{ json_fields('event_json', {
            'event_id': '$.event_id',
            'order_ref': '$.properties.order_id',
            'event_name': '$.event',
            'event_time_raw': '$.event_time',
            'event_source_url': '$.page.url',
            'value_raw': '$.properties.value',
            'currency_raw': '$.properties.currency',
        }) }},
        {{ json_fragments('event_json', {
            'user_json': '$.user',
            'properties_json': '$.properties',
            'value_json': '$.properties.value',
        }) }},
        {{ json_fields('request', {'request_pixel_id': '$.event_source_id', 'action_source': '$.event_source'}) }},
        {{ json_fields('response', {'response_code': '$.code', 'response_message': '$.message'}) }}
    from events

),

renamed as (

    select
        ----------  ids
        record_id || ':' || cast(event_index as {{ dbt.type_string() }}) as event_key,
        record_id,
        event_index,
        'tiktok' as platform,
        channel,
        coalesce(pixel_id, request_pixel_id) as pixel_id,
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
        case
            when coalesce(response_code, '0') <> '0'
                then response_code || ' ' || coalesce(response_message, '')
        end as platform_error,
        {{ is_request_accepted("nullif(response_code, '0')") }} as is_request_accepted,

        ----------  lineage
        _dlt_load_id,
        _audited_at

    from fields

)

select * from renamed
