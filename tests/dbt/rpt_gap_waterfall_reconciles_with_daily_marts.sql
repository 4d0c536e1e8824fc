{#- The waterfall's steps over the window equal the daily marts summed over the same days:
    backend, never sent, rejected, accepted and platform counted (fct_conversion_gap_daily),
    double counted (fct_dedup_daily). A platform with counted orders in the window has its
    eight steps. Returns the disagreements. -#}
with

audit_window as (

    select window_start, window_end from {{ ref('int_audit_window') }}

),

daily as (

    select
        gap.platform,
        sum(gap.backend_purchases) as backend_purchases,
        sum(gap.orders_never_sent) as orders_never_sent,
        sum(gap.orders_rejected) as orders_rejected,
        sum(gap.orders_accepted) as orders_accepted,
        sum(gap.platform_reported_purchases) as platform_counted
    from {{ ref('fct_conversion_gap_daily') }} as gap
    inner join audit_window
        on gap.report_date between audit_window.window_start and audit_window.window_end
    group by gap.platform
    having sum(gap.backend_purchases) > 0

),

dedup as (

    select dedup.platform, sum(dedup.double_count_risk_orders) as double_counted_orders
    from {{ ref('fct_dedup_daily') }} as dedup
    inner join audit_window
        on dedup.report_date between audit_window.window_start and audit_window.window_end
    group by dedup.platform

),

waterfall as (

    select
        platform,
        count(*) as steps,
        sum(case when step = 'backend_purchases' then orders end) as backend_purchases,
        sum(case when step = 'orders_never_sent' then orders end) as orders_never_sent,
        sum(case when step = 'orders_rejected' then orders end) as orders_rejected,
        sum(case when step = 'orders_accepted' then orders end) as orders_accepted,
        sum(case when step = 'double_counted_orders' then orders end) as double_counted_orders,
        sum(case when step = 'platform_counted' then orders end) as platform_counted
    from {{ ref('rpt_gap_waterfall') }}
    group by platform

)

select daily.platform, waterfall.platform as waterfall_platform
from daily
full outer join waterfall on daily.platform = waterfall.platform
left join dedup on daily.platform = dedup.platform
where daily.platform is null
    or waterfall.platform is null
    or waterfall.steps <> 8
    or waterfall.backend_purchases <> daily.backend_purchases
    or waterfall.orders_never_sent <> daily.orders_never_sent
    or waterfall.orders_rejected <> daily.orders_rejected
    or waterfall.orders_accepted <> daily.orders_accepted
    or waterfall.double_counted_orders <> coalesce(dedup.double_counted_orders, 0)
    or coalesce(waterfall.platform_counted, -1) <> coalesce(daily.platform_counted, -1)
