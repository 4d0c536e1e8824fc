{#- Match-key coverage of server purchase events over the audit window, per platform and
    key: the report's heatmap. Sums fct_match_key_coverage_daily over the window and the
    purchase event names (seeds/purchase_event_names.csv, case-insensitive) before dividing,
    so a day with few events weighs what it holds. -#}
with

audit_window as (

    select
        window_start,
        window_end
    from {{ ref('int_audit_window') }}

),

purchase_names as (

    select
        platform,
        lower(event_name) as event_name_lower
    from {{ ref('purchase_event_names') }}

),

summed as (

    select
        coverage.platform,
        coverage.match_key,
        sum(coverage.events) as events,
        sum(coverage.events_with_key) as events_with_key
    from {{ ref('fct_match_key_coverage_daily') }} as coverage
    inner join audit_window
        on coverage.report_date between audit_window.window_start and audit_window.window_end
    where
        exists (
            select 1 from purchase_names
            where
                purchase_names.platform = coverage.platform
                and purchase_names.event_name_lower = lower(coverage.event_name)
        )
    group by coverage.platform, coverage.match_key

),

key_order as (

    -- the heatmap's columns: the keys carried most often, across platforms, first
    select
        match_key,
        row_number() over (
            order by sum(case when events > 0 then events_with_key else 0 end) desc, match_key
        ) as key_order
    from summed
    group by match_key

)

select
    summed.platform,
    cast(summed.match_key as {{ dbt.type_string() }}) as match_key,
    cast(key_order.key_order as integer) as key_order,
    cast(summed.events as {{ dbt.type_bigint() }}) as events,
    cast(summed.events_with_key as {{ dbt.type_bigint() }}) as events_with_key,
    case when summed.events > 0 then {{ ratio('summed.events_with_key', 'summed.events') }} end as coverage_pct
from summed
inner join key_order on summed.match_key = key_order.match_key
