{#- Every event of every platform in one canonical shape, typed. Platforms come from
    var('platforms'): a new platform is one more stg_<platform>__events model and seed rows,
    not an edit here. Nothing here depends on orders (int_event_orders ties events to them).
    A view: the staging tables already hold each event once, flattened once; copying them
    would double the biggest write of a full build, and a reader's filter on _audited_at (the
    time the line was flattened) reaches the staging tables' blocks through the view. -#}
{{ config(materialized='view') }}

with

events as (

    {% for platform in var('platforms') %}
        select * from {{ ref('stg_' ~ platform ~ '__events') }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

purchase_event_names as (

    select distinct
        platform,
        lower(event_name) as event_name_lower
    from {{ ref('purchase_event_names') }}

),

typed as (

    select
        events.*,
        {{ safe_to_double('events.event_time_raw') }} as event_time_number,
        {{ safe_to_double('events.value_raw') }} as value_number,
        upper(trim(events.currency_raw)) as currency
    from events

),

classified as (

    select
        typed.*,
        purchase_event_names.event_name_lower is not null as is_purchase,
        -- Unix seconds are the documented unit; a value this large is milliseconds
        case
            when typed.event_time_number is null then null
            when typed.event_time_number >= 100000000000 then 'milliseconds'
            else 'seconds'
        end as event_time_unit
    from typed
    left join purchase_event_names
        on
            typed.platform = purchase_event_names.platform
            and lower(typed.event_name) = purchase_event_names.event_name_lower

),

timed as (

    select
        classified.*,
        {{ epoch_to_timestamp(
            "case when event_time_unit = 'milliseconds' then event_time_number / 1000 else event_time_number end"
        ) }} as event_at
    from classified

)

select
    event_key,
    record_id,
    event_index,
    platform,
    channel,
    pixel_id,
    event_id,
    order_ref,
    event_name,
    event_time_raw,
    action_source,
    event_source_url,
    value_raw,
    value_json_type,
    currency_raw,
    {{ match_key_columns() }}
    sent_at,
    http_status,
    platform_error,
    is_request_accepted,
    event_time_number,
    value_number,
    currency,
    is_purchase,
    event_time_unit,
    event_at,
    -- event-level metrics count on the event's day; an event without a usable event_time
    -- counts on the day it was sent, so it still shows up (as invalid) in the marts
    {{ local_date('coalesce(event_at, sent_at)') }} as event_date,
    _dlt_load_id,
    _audited_at
from timed
