{#- How late server purchase events leave, per event day and platform: seconds from the order
    being placed to the request being sent (events tied to a backend order), the share sent
    within var('latency_threshold_seconds'), and events older than the platform accepts when
    sent (seeds/platforms.csv max_event_age_days: Meta 7, Snap 37). -#}
{{ config(
    materialized='incremental',
    incremental_strategy=daily_mart_strategy(),
    partition_by=daily_mart_partition_by(),
    on_schema_change='fail',
    pre_hook="{{ delete_changed_days('event') }}",
) }}
-- depends_on: {{ ref('int_changed_days') }}
with

events as (

    select
        events.event_date,
        events.platform,
        events.order_created_at,
        events.sent_at,
        events.event_at,
        platforms.max_event_age_days,
        -- seconds_between renders to a long line (dbt.datediff on DuckDB), hence the noqa
        {{ seconds_between('events.order_created_at', 'events.sent_at') }} as latency_seconds  -- noqa: LT05
    from {{ ref('int_event_orders') }} as events
    inner join {{ ref('platforms') }} as platforms
        on events.platform = platforms.platform
    where
        events.channel = 'server' and events.is_purchase
        and {{ on_changed_days('events.event_date', 'event') }}

),

latency_percentiles as (

    {{ percentiles(
        'events', ['event_date', 'platform'], 'latency_seconds',
        {'p50_latency_seconds': 0.5, 'p95_latency_seconds': 0.95}
    ) | indent(4) }}

),

daily as (

    select
        event_date,
        platform,
        cast(count(*) as {{ dbt.type_bigint() }}) as server_purchase_events,
        cast(count(latency_seconds) as {{ dbt.type_bigint() }}) as events_with_order,
        {{ ratio(
            'sum(case when latency_seconds <= ' ~ var('latency_threshold_seconds') ~ ' then 1 else 0 end)',
            'nullif(count(latency_seconds), 0)'
        ) }} as within_threshold_pct,
        -- a platform's age limit in days of 24 hours: a timestamp plus calendar days depends on the
        -- session's time zone (23 or 25 hours across a daylight saving change)
        cast(
            sum(case when event_at < {{ dbt.dateadd('hour', '-24 * max_event_age_days', 'sent_at') }} then 1 else 0 end)
            as {{ dbt.type_bigint() }}
        ) as events_too_old
    from events
    group by event_date, platform

)

select
    daily.event_date as report_date,
    daily.platform,
    daily.server_purchase_events,
    daily.events_with_order,
    latency_percentiles.p50_latency_seconds,
    latency_percentiles.p95_latency_seconds,
    daily.within_threshold_pct,
    daily.events_too_old
from daily
left join latency_percentiles
    on daily.event_date = latency_percentiles.event_date and daily.platform = latency_percentiles.platform
