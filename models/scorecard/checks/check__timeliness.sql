{#- Scorecard check timeliness: the share of server purchase events (tied to an order) sent
    within latency_threshold_seconds of the order, and events older than the platform accepts
    when sent. Direction `at_least`: pass >= timeliness_pass with no event too old; warn down
    to timeliness_floor or when any event is too old (check_status's warn_when); fail below
    timeliness_floor. -#}
with

platforms as ({{ audited_platforms() }}
),

bounds as ({{ check_bounds('timeliness') }}
),

events as (

    select
        events.platform,
        -- seconds_between renders to a long line (dbt.datediff on DuckDB), hence the noqa
        {{ seconds_between('events.order_created_at', 'events.sent_at') }} as latency_seconds,  -- noqa: LT05
        case
            -- days of 24 hours, as in fct_event_latency_daily
            when events.event_at < {{ dbt.dateadd('hour', '-24 * platforms.max_event_age_days', 'events.sent_at') }}
                then 1
            else 0
        end as is_too_old
    from {{ ref('int_event_orders') }} as events
    inner join {{ ref('platforms') }} as platforms
        on events.platform = platforms.platform
    where events.channel = 'server' and events.is_purchase and {{ in_audit_window('events.event_date') }}

),

totals as (

    select
        platform,
        count(latency_seconds) as events_with_order,
        {{ ratio(
            'sum(case when latency_seconds <= ' ~ var('latency_threshold_seconds') ~ ' then 1 else 0 end)',
            'nullif(count(latency_seconds), 0)'
        ) }} as within_share,
        sum(is_too_old) as events_too_old
    from events
    group by platform

),

latency_percentiles as (

    {{ percentiles('events', ['platform'], 'latency_seconds', {'p95_latency_seconds': 0.95}) | indent(4) }}

),

measured as (

    select
        platforms.platform,
        platforms.display_name,
        platform_facts.max_event_age_days,
        totals.events_with_order,
        totals.within_share,
        latency_percentiles.p95_latency_seconds,
        coalesce(totals.events_too_old, 0) as events_too_old
    from platforms
    inner join {{ ref('platforms') }} as platform_facts on platforms.platform = platform_facts.platform
    left join totals on platforms.platform = totals.platform
    left join latency_percentiles on platforms.platform = latency_percentiles.platform

),

judged as (

    select
        measured.*,
        bounds.pass_bound,
        {{ check_status('measured.within_share', 'bounds.direction', 'bounds.pass_bound', 'bounds.floor_bound',
                        'measured.events_with_order > 0', warn_when='measured.events_too_old > 0') }} as status
    from measured
    left join bounds on 1 = 1

)

select
    platform,
    'timeliness' as check_name,
    {{ window_columns() }},
    cast(within_share as {{ type_double() }}) as metric_value,
    cast(pass_bound as {{ type_double() }}) as threshold,
    status,
    case
        when status = 'no_data'
            then
                'No ' || display_name || ' server purchase event in the window could be tied to a backend order.'
        else
            {{ fmt_pct('within_share') }} || ' of ' || display_name || ' purchase events left within '
            || {{ fmt_number(var('latency_threshold_seconds') / 60, 0) }} || ' minutes of the order (target '
            || {{ fmt_pct('pass_bound') }} || '; 95% left within '
            || {{ fmt_number('p95_latency_seconds / 60.0', 0) }} || ' minutes).'
            || case
                when events_too_old > 0
                    then
                        ' ' || {{ plural('events_too_old', 'event was', 'events were') }} || ' older than the '
                        || cast(max_event_age_days as {{ dbt.type_string() }}) || ' days ' || display_name
                        || ' accepts when sent, and are lost.'
                else ''
            end
            || case when status <> 'pass' then ' Send purchases as they happen, not in late batches.' else '' end
    end as summary
from judged
