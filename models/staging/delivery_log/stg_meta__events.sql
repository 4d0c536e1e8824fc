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

renamed as (

    select
        ----------  ids
        record_id || ':' || cast(event_index as {{ dbt.type_string() }}) as event_key,
        record_id,
        event_index,
        'meta' as platform,
        channel,
        pixel_id,
        {{ json_value('event_json', "'$.event_id'") }} as event_id,
        {{ json_value('event_json', "'$.custom_data.order_id'") }} as order_ref,

        ----------  event
        {{ json_value('event_json', "'$.event_name'") }} as event_name,
        {{ json_value('event_json', "'$.event_time'") }} as event_time_raw,
        {{ json_value('event_json', "'$.action_source'") }} as action_source,
        {{ json_value('event_json', "'$.event_source_url'") }} as event_source_url,

        ----------  purchase details
        {{ json_value('event_json', "'$.custom_data.value'") }} as value_raw,
        {{ json_kind('event_json', "'$.custom_data.value'") }} as value_json_type,
        {{ json_value('event_json', "'$.custom_data.currency'") }} as currency_raw,

        ----------  payload parts kept as JSON text
        {{ json_fragment('event_json', "'$.user_data'") }} as user_json,
        {{ json_fragment('event_json', "'$.custom_data'") }} as properties_json,

        ----------  delivery
        sent_at,
        http_status,
        {{ json_value('response', "'$.error.message'") }} as platform_error,
        {{ is_request_accepted(json_value('response', "'$.error'")) }} as is_request_accepted

    from events

)

select * from renamed
