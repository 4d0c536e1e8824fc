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

renamed as (

    select
        ----------  ids
        record_id || ':' || cast(event_index as {{ dbt.type_string() }}) as event_key,
        record_id,
        event_index,
        'tiktok' as platform,
        channel,
        coalesce(pixel_id, {{ json_value('request', "'$.event_source_id'") }}) as pixel_id,
        {{ json_value('event_json', "'$.event_id'") }} as event_id,
        {{ json_value('event_json', "'$.properties.order_id'") }} as order_ref,

        ----------  event
        {{ json_value('event_json', "'$.event'") }} as event_name,
        {{ json_value('event_json', "'$.event_time'") }} as event_time_raw,
        {{ json_value('request', "'$.event_source'") }} as action_source,
        {{ json_value('event_json', "'$.page.url'") }} as event_source_url,

        ----------  purchase details
        {{ json_value('event_json', "'$.properties.value'") }} as value_raw,
        {{ json_kind('event_json', "'$.properties.value'") }} as value_json_type,
        {{ json_value('event_json', "'$.properties.currency'") }} as currency_raw,

        ----------  payload parts kept as JSON text
        {{ json_fragment('event_json', "'$.user'") }} as user_json,
        {{ json_fragment('event_json', "'$.properties'") }} as properties_json,

        ----------  delivery
        sent_at,
        http_status,
        case
            when coalesce({{ json_value('response', "'$.code'") }}, '0') <> '0'
                then {{ json_value('response', "'$.code'") }} || ' ' || coalesce({{ json_value('response', "'$.message'") }}, '')
        end as platform_error,
        {{ is_request_accepted("nullif(" ~ json_value('response', "'$.code'") ~ ", '0')") }} as is_request_accepted

    from events

)

select * from renamed
