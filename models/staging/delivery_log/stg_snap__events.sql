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

renamed as (

    select
        ----------  ids
        record_id || ':' || cast(event_index as {{ dbt.type_string() }}) as event_key,
        record_id,
        event_index,
        'snap' as platform,
        channel,
        pixel_id,
        coalesce(
            {{ json_value('event_json', "'$.event_id'") }},
            {{ json_value('event_json', "'$.client_dedup_id'") }}
        ) as event_id,
        coalesce(
            {{ json_value('event_json', "'$.custom_data.order_id'") }},
            {{ json_value('event_json', "'$.custom_data.transaction_id'") }}
        ) as order_ref,

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
        case
            when upper({{ json_value('response', "'$.status'") }}) = 'INVALID'
                then coalesce({{ json_value('response', "'$.reason'") }}, 'INVALID')
        end as platform_error,
        {{ is_request_accepted("case when upper(" ~ json_value('response', "'$.status'") ~ ") = 'INVALID' then 1 end") }} as is_request_accepted

    from events

)

select * from renamed
