{#- Deduplication of pixel and server purchase events, per order day and platform. A counted
    order with both a browser and a server purchase event is deduplicated when both sides share
    one event_id and event name, sent within var('dedup_window_hours') of each other (the
    platforms' 48-hour window). Otherwise the platform counts it twice. -#}
with

deliveries as (

    select * from {{ ref('int_order_deliveries') }}

),

purchase_events as (

    select order_id, platform, channel, event_id, lower(event_name) as event_name_lower, sent_at
    from {{ ref('int_events') }}
    where is_purchase and order_id is not null and event_id is not null

),

matching_orders as (

    select distinct browser.order_id, browser.platform
    from purchase_events as browser
    inner join purchase_events as server
        on browser.order_id = server.order_id
        and browser.platform = server.platform
        and browser.event_id = server.event_id
        and browser.event_name_lower = server.event_name_lower
    where browser.channel = 'browser'
        and server.channel = 'server'
        and server.sent_at <= {{ dbt.dateadd('hour', var('dedup_window_hours'), 'browser.sent_at') }}
        and browser.sent_at <= {{ dbt.dateadd('hour', var('dedup_window_hours'), 'server.sent_at') }}

),

reported as (

    select report_date, platform, events_deduplicated
    from {{ ref('int_platform_reported_purchases') }}

),

daily as (

    select
        deliveries.created_date as report_date,
        deliveries.platform,
        cast(sum(case when deliveries.browser_purchase_events > 0 then 1 else 0 end) as {{ dbt.type_bigint() }})
            as orders_with_browser_event,
        cast(sum(case when deliveries.is_sent_by_server then 1 else 0 end) as {{ dbt.type_bigint() }})
            as orders_with_server_event,
        cast(sum(case when deliveries.browser_purchase_events > 0 and deliveries.is_sent_by_server then 1 else 0 end)
            as {{ dbt.type_bigint() }}) as orders_with_both,
        cast(sum(case when deliveries.browser_purchase_events > 0 and deliveries.is_sent_by_server
            and matching_orders.order_id is not null then 1 else 0 end) as {{ dbt.type_bigint() }})
            as matching_event_id_orders
    from deliveries
    left join matching_orders
        on deliveries.order_id = matching_orders.order_id
        and deliveries.platform = matching_orders.platform
    group by deliveries.created_date, deliveries.platform

)

select
    daily.report_date,
    daily.platform,
    daily.orders_with_browser_event,
    daily.orders_with_server_event,
    daily.orders_with_both,
    daily.matching_event_id_orders,
    case when daily.orders_with_both > 0 then
        1.0 * daily.matching_event_id_orders / daily.orders_with_both
    end as dedup_rate,
    daily.orders_with_both - daily.matching_event_id_orders as double_count_risk_orders,
    reported.events_deduplicated as platform_deduplicated
from daily
left join reported
    on daily.report_date = reported.report_date
    and daily.platform = reported.platform
