{#- One row per counted backend order and platform: what the tracking setup did with that
    order on that platform. The grain of every order-level metric (gap, capture, dedup). -#}
with

orders as (

    select * from {{ ref('stg_backend__orders') }}
    where is_counted_purchase

),

platforms as (

    select platform from {{ ref('platforms') }}
    where platform in {{ sql_string_list(var('platforms')) }}

),

purchase_events as (

    select
        order_id,
        platform,
        sum(case when channel = 'server' then 1 else 0 end) as server_purchase_events,
        sum(case when channel = 'server' and is_request_accepted then 1 else 0 end)
            as accepted_server_purchase_events,
        sum(case when channel = 'browser' then 1 else 0 end) as browser_purchase_events,
        min(case when channel = 'server' then sent_at end) as first_server_sent_at
    from {{ ref('int_events') }}
    where is_purchase and order_id is not null
    group by order_id, platform

)

select
    orders.order_id,
    platforms.platform,
    orders.created_date,
    orders.created_at,
    orders.purchase_path,
    coalesce(purchase_events.server_purchase_events, 0) as server_purchase_events,
    coalesce(purchase_events.accepted_server_purchase_events, 0) as accepted_server_purchase_events,
    coalesce(purchase_events.browser_purchase_events, 0) as browser_purchase_events,
    coalesce(purchase_events.server_purchase_events, 0) > 0 as is_sent_by_server,
    coalesce(purchase_events.accepted_server_purchase_events, 0) > 0 as is_accepted,
    purchase_events.first_server_sent_at
from orders
cross join platforms
left join purchase_events
    on orders.order_id = purchase_events.order_id
    and platforms.platform = purchase_events.platform
