{#- Scorecard check deduplication: of the counted orders that both the pixel and the server
    reported, the share whose two events share an event_id and event name within the dedup
    window. Direction `at_least`: pass >= dedup_rate_pass, warn down to dedup_rate_floor,
    fail below. -#}
with

platforms as ({{ audited_platforms() }}
),

bounds as ({{ check_bounds('deduplication') }}
),

totals as (

    select
        platform,
        sum(orders_with_both) as orders_with_both,
        sum(matching_event_id_orders) as matching_orders,
        sum(double_count_risk_orders) as double_count_risk_orders
    from {{ ref('fct_dedup_daily') }}
    where {{ in_audit_window('report_date') }}
    group by platform

),

measured as (

    select
        platforms.platform,
        platforms.display_name,
        totals.orders_with_both,
        totals.matching_orders,
        totals.double_count_risk_orders,
        {{ ratio('totals.matching_orders', 'nullif(totals.orders_with_both, 0)') }} as dedup_rate
    from platforms
    left join totals on platforms.platform = totals.platform

),

judged as (

    select
        measured.*,
        bounds.pass_bound,
        {{ check_status('measured.dedup_rate', 'bounds.direction', 'bounds.pass_bound', 'bounds.floor_bound',
                        'measured.orders_with_both > 0') }} as status
    from measured
    left join bounds on 1 = 1

)

select
    platform,
    'deduplication' as check_name,
    {{ window_columns() }},
    cast(dedup_rate as {{ type_double() }}) as metric_value,
    cast(pass_bound as {{ type_double() }}) as threshold,
    status,
    case
        when status = 'no_data'
            then
                'No order had both a ' || display_name || ' pixel and a server purchase event in the window: '
                || 'nothing to deduplicate (or browser events are not in the delivery log).'
        else
            'Of ' || {{ fmt_int('orders_with_both') }} || ' orders that both the ' || display_name
            || ' pixel and your server reported, ' || {{ fmt_int('matching_orders') }} || ' share an event_id ('
            || {{ fmt_pct('dedup_rate') }} || ').'
            || case
                when double_count_risk_orders > 0
                    then
                        ' ' || {{ plural('double_count_risk_orders', 'order risks', 'orders risk') }}
                        || ' being counted twice: send the same event_id (the order id) from pixel and server.'
                else ''
            end
    end as summary
from judged
