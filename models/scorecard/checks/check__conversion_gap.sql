{#- Scorecard check conversion_gap: (backend - platform-reported) / backend over the audit
    window. Direction `within` (seeds/checks.csv): fails at or above gap_threshold either way,
    under-reporting means lost purchases, over-reporting means double counting. -#}
with

platforms as ({{ audited_platforms() }}
),

bounds as ({{ check_bounds('conversion_gap') }}
),

window_bounds as (

    select * from {{ ref('int_audit_window') }}

),

daily as (

    select gap.*
    from {{ ref('fct_conversion_gap_daily') }} as gap
    cross join window_bounds
    where gap.report_date between window_bounds.window_start and window_bounds.window_end

),

totals as (

    select
        platform,
        sum(backend_purchases) as backend_purchases,
        sum(orders_sent_by_server) as orders_sent_by_server,
        sum(orders_accepted) as orders_accepted,
        -- days without a report row count as nothing reported; no report at all is no data
        sum(platform_reported_purchases) as platform_reported_purchases
    from daily
    group by platform

),

-- the purchase path holding most of the orders the server never sent
never_sent_by_path as (

    select
        deliveries.platform,
        deliveries.purchase_path,
        count(*) as orders_never_sent,
        row_number() over (
            partition by deliveries.platform order by count(*) desc, deliveries.purchase_path
        ) as path_rank
    from {{ ref('int_order_deliveries') }} as deliveries
    cross join window_bounds
    where
        deliveries.is_counted_purchase and not deliveries.is_sent_by_server
        and deliveries.created_date between window_bounds.window_start and window_bounds.window_end
    group by deliveries.platform, deliveries.purchase_path

),

measured as (

    select
        platforms.platform,
        platforms.display_name,
        totals.backend_purchases,
        totals.orders_sent_by_server,
        totals.orders_accepted,
        totals.platform_reported_purchases,
        totals.backend_purchases - totals.orders_sent_by_server as orders_never_sent,
        totals.orders_sent_by_server - totals.orders_accepted as orders_rejected,
        case
            when totals.backend_purchases > 0 and totals.platform_reported_purchases is not null then
                {{ ratio('totals.backend_purchases - totals.platform_reported_purchases', 'totals.backend_purchases') }}
        end as gap_pct,
        top_path.purchase_path as top_never_sent_path,
        top_path.orders_never_sent as top_never_sent_orders
    from platforms
    left join totals on platforms.platform = totals.platform
    left join never_sent_by_path as top_path
        on platforms.platform = top_path.platform and top_path.path_rank = 1

),

judged as (

    select
        measured.*,
        bounds.pass_bound,
        {{ check_status('measured.gap_pct', 'bounds.direction', 'bounds.pass_bound', 'bounds.floor_bound',
                        'measured.gap_pct is not null') }} as status
    from measured
    left join bounds on 1 = 1

)

select
    judged.platform,
    'conversion_gap' as check_name,
    window_bounds.window_start,
    window_bounds.window_end,
    cast(judged.gap_pct as {{ type_double() }}) as metric_value,
    cast(judged.pass_bound as {{ type_double() }}) as threshold,
    judged.status,
    {{ conversion_gap_summary('judged', 'judged.display_name', 'paths.label', 'judged.pass_bound') }} as summary
from judged
cross join window_bounds
left join {{ ref('purchase_paths') }} as paths
    on judged.top_never_sent_path = paths.purchase_path
