{#- One row per backend order and platform: what the tracking setup did with that order on
    that platform. The grain of every order-level metric (gap, capture, dedup); the marts
    count the orders with is_counted_purchase. An order with both a browser and a server
    purchase event is deduplicated when both sides share one event_id and event name, sent
    within var('dedup_window_hours') of each other (the platforms' 48-hour window).
    Incremental: the batch is the orders loaded since the last build and the orders named by
    the events whose tie changed (new events, late orders); previous_created_date
    is the day the order counted on before, so a re-dated order is taken off its old day. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    partition_by=keyed_partition_by('created_date'),
    unique_key='order_id',
    on_schema_change='sync_all_columns',
) }}

with

{% if is_incremental() -%}
changed_orders as (

    select order_id from {{ ref('int_orders') }} where {{ changed_since_last_build() }}
    union
    -- an event's tie moves only between the orders its order_ref and event_id name
    select order_ref from {{ ref('int_event_orders') }}
    where {{ changed_since_last_build() }} and order_ref is not null
    union
    select event_id from {{ ref('int_event_orders') }}
    where {{ changed_since_last_build() }} and event_id is not null

),

{% endif -%}
orders as (

    select * from {{ ref('int_orders') }}
    {%- if is_incremental() %}
    where order_id in (select order_id from changed_orders)
    {%- endif %}

),

platforms as (

    select platform from {{ ref('platforms') }}
    where platform in {{ sql_string_list(var('platforms')) }}

),

purchase_events as (

    select
        order_id,
        platform,
        channel,
        is_request_accepted,
        sent_at,
        event_id,
        lower(event_name) as event_name_lower
    from {{ ref('int_event_orders') }}
    where is_purchase and order_id is not null
    {%- if is_incremental() %}
        and order_id in (select order_id from changed_orders)
    {%- endif %}

),

per_order as (

    select
        order_id,
        platform,
        sum(case when channel = 'server' then 1 else 0 end) as server_purchase_events,
        sum(case when channel = 'server' and is_request_accepted then 1 else 0 end)
            as accepted_server_purchase_events,
        sum(case when channel = 'browser' then 1 else 0 end) as browser_purchase_events,
        min(case when channel = 'server' then sent_at end) as first_server_sent_at
    from purchase_events
    group by order_id, platform

),

matching_orders as (

    select distinct
        browser_events.order_id,
        browser_events.platform
    from purchase_events as browser_events
    inner join purchase_events as server_events
        on
            browser_events.order_id = server_events.order_id
            and browser_events.platform = server_events.platform
            and browser_events.event_id = server_events.event_id
            and browser_events.event_name_lower = server_events.event_name_lower
    where
        browser_events.channel = 'browser'
        and server_events.channel = 'server'
        and server_events.sent_at <= {{ dbt.dateadd('hour', var('dedup_window_hours'), 'browser_events.sent_at') }}
        and browser_events.sent_at <= {{ dbt.dateadd('hour', var('dedup_window_hours'), 'server_events.sent_at') }}

)

select
    orders.order_id,
    platforms.platform,
    orders.created_date,
    orders.created_at,
    orders.purchase_path,
    orders.is_counted_purchase,
    coalesce(per_order.server_purchase_events, 0) as server_purchase_events,
    coalesce(per_order.accepted_server_purchase_events, 0) as accepted_server_purchase_events,
    coalesce(per_order.browser_purchase_events, 0) as browser_purchase_events,
    coalesce(per_order.server_purchase_events, 0) > 0 as is_sent_by_server,
    coalesce(per_order.accepted_server_purchase_events, 0) > 0 as is_accepted,
    per_order.first_server_sent_at,
    matching_orders.order_id is not null as has_matching_event_id,
    {% if is_incremental() -%}
    before.created_date
    {%- else -%}
        cast(null as date)
    {%- endif %} as previous_created_date,
    {{ audit_run_at() }} as _audited_at
from orders
cross join platforms
left join per_order
    on
        orders.order_id = per_order.order_id
        and platforms.platform = per_order.platform
left join matching_orders
    on
        orders.order_id = matching_orders.order_id
        and platforms.platform = matching_orders.platform
{%- if is_incremental() %}
left join (
    select distinct order_id, created_date from {{ this }}
    where order_id in (select order_id from changed_orders)
) as before
    on orders.order_id = before.order_id
{%- endif %}
