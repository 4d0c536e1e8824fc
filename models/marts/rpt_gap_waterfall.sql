{#- The conversion gap decomposed over the audit window, per platform, in orders: backend
    purchases - never sent by the server - sent but rejected = accepted; then + orders the
    platform can only know from its pixel + orders it counts twice + the platform's own
    difference = what its report counted. One row per step (8 per platform with orders in the
    window). The pixel-only step needs the per-order view (int_order_deliveries); the double
    counting and the platform's count come from the daily marts. DECISIONLOG.md: the gap
    waterfall. -#}
with

audit_window as (

    select window_start, window_end from {{ ref('int_audit_window') }}

),

orders as (

    select
        deliveries.platform,
        count(*) as backend_purchases,
        sum(case when not deliveries.is_sent_by_server then 1 else 0 end) as orders_never_sent,
        sum(case when deliveries.is_sent_by_server and not deliveries.is_accepted then 1 else 0 end)
            as orders_rejected,
        sum(case when deliveries.is_accepted then 1 else 0 end) as orders_accepted,
        -- the server never delivered them, yet the pixel told the platform
        sum(case when not deliveries.is_accepted and deliveries.browser_purchase_events > 0 then 1 else 0 end)
            as pixel_only_orders
    from {{ ref('int_order_deliveries') }} as deliveries
    inner join audit_window
        on deliveries.created_date between audit_window.window_start and audit_window.window_end
    where deliveries.is_counted_purchase
    group by deliveries.platform

),

dedup as (

    select dedup.platform, sum(dedup.double_count_risk_orders) as double_counted_orders
    from {{ ref('fct_dedup_daily') }} as dedup
    inner join audit_window
        on dedup.report_date between audit_window.window_start and audit_window.window_end
    group by dedup.platform

),

reported as (

    select gap.platform, sum(gap.platform_reported_purchases) as platform_counted
    from {{ ref('fct_conversion_gap_daily') }} as gap
    inner join audit_window
        on gap.report_date between audit_window.window_start and audit_window.window_end
    group by gap.platform

),

totals as (

    select
        orders.platform,
        orders.backend_purchases,
        orders.orders_never_sent,
        orders.orders_rejected,
        orders.orders_accepted,
        orders.pixel_only_orders,
        coalesce(dedup.double_counted_orders, 0) as double_counted_orders,
        -- events for orders that don't count, reporting-day shifts, the platform's matching:
        -- shown as its own step, never spread over the others
        reported.platform_counted - orders.orders_accepted - orders.pixel_only_orders
            - coalesce(dedup.double_counted_orders, 0) as other_difference,
        reported.platform_counted
    from orders
    left join dedup on orders.platform = dedup.platform
    left join reported on orders.platform = reported.platform

),

steps as (

    {% set steps = [
        (1, 'backend_purchases', 'backend purchases', 'backend purchases', 'total', 0),
        (2, 'orders_never_sent', 'never sent by server', 'never sent', 'subtract', -1),
        (3, 'orders_rejected', 'rejected', 'rejected', 'subtract', -1),
        (4, 'orders_accepted', 'accepted', 'accepted', 'total', 0),
        (5, 'pixel_only_orders', 'counted via pixel only', 'via pixel only', 'add', 1),
        (6, 'double_counted_orders', 'double counted', 'double counted', 'add', 1),
        (7, 'other_difference', 'other platform difference', 'other', 'add', 1),
        (8, 'platform_counted', 'platform counted', 'platform counted', 'total', 0),
    ] %}
    {% for step_order, step, label, short_label, kind, sign in steps %}
    select
        platform,
        {{ step_order }} as step_order,
        '{{ step }}' as step,
        '{{ label }}' as step_label,
        '{{ short_label }}' as short_label,
        '{{ kind }}' as step_kind,
        {{ step }} as orders,
        {% if kind == 'total' %}cast(null as {{ dbt.type_bigint() }}){% else %}{{ sign }} * {{ step }}{% endif %}
            as orders_change
    from totals
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select
    platform,
    cast(step_order as integer) as step_order,
    cast(step as {{ dbt.type_string() }}) as step,
    cast(step_label as {{ dbt.type_string() }}) as step_label,
    cast(short_label as {{ dbt.type_string() }}) as short_label,
    cast(step_kind as {{ dbt.type_string() }}) as step_kind,
    cast(orders as {{ dbt.type_bigint() }}) as orders,
    cast(orders_change as {{ dbt.type_bigint() }}) as orders_change
from steps
