{#- TikTok Events API 2.0: body {"event_source": "web", "event_source_id": <pixel code>,
    "data": [event, ...]}; the event name is `event`, customer information in `user`,
    purchase details in `properties`, the page in `page.url`. Business errors come back with
    HTTP 200 and a non-zero `code`. -#}
{#- Incremental: each line's events are staged once (the loader lands a line once). -#}
-- depends_on: {{ ref('match_keys') }}
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
        value_json_type,
        currency_raw,

        ----------  match keys as sent (the first value of a list), one column per canonical key
        {{ match_key_columns() }}
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

    from events

)

select * from renamed
