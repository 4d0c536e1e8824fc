{#- Scorecard check timeliness: the share of server purchase events (tied to an order) sent
    within latency_threshold_seconds of the order, and events older than the platform accepts
    when sent. Pass >= timeliness_pass with no event too old; warn down to timeliness_floor or
    when any event is too old; fail below timeliness_floor. -#}
with

platforms as ({{ audited_platforms() }}),

events as (

    select
        events.platform,
        {{ dbt.datediff('events.order_created_at', 'events.sent_at', 'second') }} as latency_seconds,
        case when events.event_at < {{ dbt.dateadd('day', '-platforms.max_event_age_days', 'events.sent_at') }}
            then 1 else 0 end as is_too_old
    from {{ ref('int_event_orders') }} as events
    inner join {{ ref('platforms') }} as platforms
        on events.platform = platforms.platform
    where events.channel = 'server' and events.is_purchase and {{ in_audit_window('events.event_date') }}

),

totals as (

    select
        platform,
        count(latency_seconds) as events_with_order,
        1.0 * sum(case when latency_seconds <= {{ var('latency_threshold_seconds') }} then 1 else 0 end)
            / nullif(count(latency_seconds), 0) as within_share,
        {{ percentile('latency_seconds', 0.95) }} as p95_latency_seconds,
        sum(is_too_old) as events_too_old
    from events
    group by platform

),

judged as (

    select
        platforms.platform,
        platforms.display_name,
        platform_facts.max_event_age_days,
        totals.events_with_order,
        totals.within_share,
        totals.p95_latency_seconds,
        coalesce(totals.events_too_old, 0) as events_too_old,
        case
            when totals.within_share is null then 'no_data'
            when totals.within_share < {{ var('timeliness_floor') }} then 'fail'
            when totals.within_share < {{ var('timeliness_pass') }} or totals.events_too_old > 0 then 'warn'
            else 'pass'
        end as status
    from platforms
    inner join {{ ref('platforms') }} as platform_facts on platforms.platform = platform_facts.platform
    left join totals on platforms.platform = totals.platform

)

select
    platform,
    'timeliness' as check_name,
    {{ window_columns() }},
    cast(within_share as double) as metric_value,
    cast({{ var('timeliness_pass') }} as double) as threshold,
    status,
    case
        when status = 'no_data' then
            'No ' || display_name || ' server purchase event in the window could be tied to a backend order.'
        else
            {{ fmt_pct('within_share') }} || ' of ' || display_name || ' purchase events left within '
            || {{ fmt_number(var('latency_threshold_seconds') / 60, 0) }} || ' minutes of the order (target '
            || {{ fmt_pct(var('timeliness_pass')) }} || '; 95% left within '
            || {{ fmt_number('p95_latency_seconds / 60.0', 0) }} || ' minutes).'
            || case when events_too_old > 0 then
                ' ' || {{ plural('events_too_old', 'event was', 'events were') }} || ' older than the '
                || cast(max_event_age_days as {{ dbt.type_string() }}) || ' days ' || display_name
                || ' accepts when sent, and are lost.'
               else '' end
            || case when status <> 'pass' then ' Send purchases as they happen, not in late batches.' else '' end
    end as summary
from judged
