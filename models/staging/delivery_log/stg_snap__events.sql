{#- Snap Conversions API v3: body {"data": [event, ...]}; customer information in
    `user_data`, purchase details in `custom_data`. The Snap pixel calls its dedup key
    `client_dedup_id`; v2 named the order `transaction_id`. A failed request answers
    {"status": "INVALID", "reason": ...}. -#}
{#- Incremental: each line's events are staged once (the loader lands a line once). -#}
-- depends_on: {{ ref('match_keys') }}
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
        coalesce(event_id, client_dedup_id) as event_id,
        coalesce(order_ref, transaction_id) as order_ref,

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
            when upper(response_status) = 'INVALID' then coalesce(response_reason, 'INVALID')
        end as platform_error,
        {{ is_request_accepted("case when upper(response_status) = 'INVALID' then 1 end") }} as is_request_accepted,

        ----------  lineage
        _dlt_load_id,
        _audited_at

    from events

)

select * from renamed
