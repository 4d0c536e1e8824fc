{#- Backend purchases against what the server sent, what the platform accepted and what the
    platform reported, per reporting day and platform. -#}
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

backend as (

    select
        created_date as report_date,
        platform,
        cast(count(*) as {{ dbt.type_bigint() }}) as backend_purchases,
        cast(sum(case when is_sent_by_server then 1 else 0 end) as {{ dbt.type_bigint() }}) as orders_sent_by_server,
        cast(sum(case when is_accepted then 1 else 0 end) as {{ dbt.type_bigint() }}) as orders_accepted
    from deliveries
    group by created_date, platform

),

reported as (

    select * from {{ ref('int_platform_reported_purchases') }}
    where platform in {{ sql_string_list(var('platforms')) }} and {{ on_changed_days('report_date', 'order') }}

),

days as (

    select
        report_date,
        platform
    from backend
    union
    select
        report_date,
        platform
    from reported

),

joined as (

    select
        days.report_date,
        days.platform,
        coalesce(backend.backend_purchases, 0) as backend_purchases,
        coalesce(backend.orders_sent_by_server, 0) as orders_sent_by_server,
        coalesce(backend.orders_accepted, 0) as orders_accepted,
        reported.platform_reported_purchases,
        reported.events_received as platform_events_received,
        reported.events_deduplicated as platform_events_deduplicated
    from days
    left join backend
        on days.report_date = backend.report_date and days.platform = backend.platform
    left join reported
        on days.report_date = reported.report_date and days.platform = reported.platform

),

measured as (

    select
        *,
        backend_purchases - orders_sent_by_server as orders_never_sent,
        orders_sent_by_server - orders_accepted as orders_rejected,
        case
            when backend_purchases > 0 then
                {{ ratio('backend_purchases - platform_reported_purchases', 'backend_purchases') }}
        end as gap_pct,
        case
            when backend_purchases > 0 then
                {{ ratio('backend_purchases - orders_sent_by_server', 'backend_purchases') }}
        end as capture_gap_pct
    from joined

)

select
    *,
    case
        when gap_pct is null then 'no_data'
        when gap_pct >= {{ var('gap_severe_threshold') }} then 'severe'
        when gap_pct >= {{ var('gap_threshold') }} then 'gap'
        when gap_pct <= -{{ var('gap_threshold') }} then 'over_reported'
        else 'ok'
    end as status
from measured
