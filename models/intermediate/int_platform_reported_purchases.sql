{#- What each platform says it counted as purchases, per reporting day (all pixels). -#}
with

reports as (

    select * from {{ ref('stg_platform_reports__daily') }}

),

purchase_event_names as (

    select distinct
        platform,
        lower(event_name) as event_name_lower
    from {{ ref('purchase_event_names') }}

)

select
    reports.report_date,
    reports.platform,
    cast(sum(reports.events_received) as {{ dbt.type_bigint() }}) as events_received,
    cast(sum(reports.events_deduplicated) as {{ dbt.type_bigint() }}) as events_deduplicated,
    -- the platform's count after its own deduplication
    cast(sum(reports.events_received - coalesce(reports.events_deduplicated, 0)) as {{ dbt.type_bigint() }})
        as platform_reported_purchases
from reports
inner join purchase_event_names
    on
        reports.platform = purchase_event_names.platform
        and lower(reports.event_name) = purchase_event_names.event_name_lower
group by reports.report_date, reports.platform
