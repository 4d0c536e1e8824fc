{#- Deduplication of pixel and server purchase events, per order day and platform. A counted
    order with both a browser and a server purchase event is deduplicated when both sides share
    one event_id and event name, sent within var('dedup_window_hours') of each other (the
    platforms' 48-hour window; judged per order in int_order_deliveries). Otherwise the
    platform counts it twice. -#}
{{ config(
    materialized='incremental',
    incremental_strategy=daily_mart_strategy(),
    partition_by=daily_mart_partition_by(),
    on_schema_change='fail',
    pre_hook="{{ delete_changed_days('order') }}",
) }}
-- depends_on: {{ ref('int_changed_days') }}

with

deliveries as (

    select * from {{ ref('int_order_deliveries') }}
    where is_counted_purchase and {{ on_changed_days('created_date', 'order') }}

),

reported as (

    select
        report_date,
        platform,
        events_deduplicated
    from {{ ref('int_platform_reported_purchases') }}

),

daily as (

    select
        created_date as report_date,
        platform,
        cast(sum(case when browser_purchase_events > 0 then 1 else 0 end) as {{ dbt.type_bigint() }})
            as orders_with_browser_event,
        cast(sum(case when is_sent_by_server then 1 else 0 end) as {{ dbt.type_bigint() }})
            as orders_with_server_event,
        cast(
            sum(case when browser_purchase_events > 0 and is_sent_by_server then 1 else 0 end)
            as {{ dbt.type_bigint() }}
        ) as orders_with_both,
        cast(sum(case
            when browser_purchase_events > 0 and is_sent_by_server and has_matching_event_id
                then 1
            else 0
        end) as {{ dbt.type_bigint() }}) as matching_event_id_orders
    from deliveries
    group by created_date, platform

)

select
    daily.report_date,
    daily.platform,
    daily.orders_with_browser_event,
    daily.orders_with_server_event,
    daily.orders_with_both,
    daily.matching_event_id_orders,
    case
        when daily.orders_with_both > 0 then
            {{ ratio('daily.matching_event_id_orders', 'daily.orders_with_both') }}
    end as dedup_rate,
    daily.orders_with_both - daily.matching_event_id_orders as double_count_risk_orders,
    reported.events_deduplicated as platform_deduplicated
from daily
left join reported
    on
        daily.report_date = reported.report_date
        and daily.platform = reported.platform
