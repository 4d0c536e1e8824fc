{#- Meta Conversions API (and the Meta pixel's parameters for browser lines):
    body {"data": [event, ...]}; event fields at the top level, customer information in
    `user_data`, purchase details in `custom_data`. A failed request answers {"error": {...}}. -#}
{#- Incremental: each line's events are staged once (the loader lands a line once). -#}
-- depends_on: {{ ref('match_keys') }}
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
        response_error_message as platform_error,
        {{ is_request_accepted('response_error') }} as is_request_accepted,

        ----------  lineage
        _dlt_load_id,
        _audited_at

    from events

)

select * from renamed
