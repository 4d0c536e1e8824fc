{#- The platforms' own match quality over time, per day, platform, event name and source:
    Meta's Dataset Quality API snapshots (a rolling-window score, kept once per day, so it gets
    a history) and the score column of platform report CSVs (TikTok and Snap Events Manager
    exports, or any report). fct_match_quality_daily and the match_quality check prefer the
    API snapshot and fall back to the report. -#}
with

snapshots as (

    -- the latest snapshot of each dataset and event per reporting day
    select
        *,
        row_number() over (
            partition by report_date, dataset_id, lower(event_name) order by fetched_at desc
        ) as snapshot_rank
    from {{ ref('stg_meta__dataset_quality') }}

),

api as (

    -- several datasets (pixels) of one platform: their plain mean, Meta publishing no volumes here
    select
        report_date,
        platform,
        min(event_name) as event_name,
        'dataset_quality_api' as source,
        avg(platform_match_score) as platform_match_score,
        cast(count(distinct dataset_id) as {{ dbt.type_bigint() }}) as datasets,
        cast(null as {{ dbt.type_bigint() }}) as events_received,
        avg(event_coverage_pct) as event_coverage_pct,
        avg(email_coverage_pct) as email_coverage_pct,
        avg(phone_coverage_pct) as phone_coverage_pct,
        avg(acr_pct) as acr_pct
    from snapshots
    where snapshot_rank = 1
    group by report_date, platform, lower(event_name)

),

reports as (

    -- the report's score, weighted by the events each pixel received
    select
        report_date,
        platform,
        min(event_name) as event_name,
        'platform_report' as source,
        sum(match_quality_score * events_received) / nullif(sum(events_received), 0) as platform_match_score,
        cast(count(distinct pixel_id) as {{ dbt.type_bigint() }}) as datasets,
        cast(sum(events_received) as {{ dbt.type_bigint() }}) as events_received,
        cast(null as {{ type_double() }}) as event_coverage_pct,
        cast(null as {{ type_double() }}) as email_coverage_pct,
        cast(null as {{ type_double() }}) as phone_coverage_pct,
        cast(null as {{ type_double() }}) as acr_pct
    from {{ ref('stg_platform_reports__daily') }}
    where match_quality_score is not null
    group by report_date, platform, lower(event_name)

),

unioned as (

    select * from api
    union all
    select * from reports

)

select
    report_date,
    platform,
    event_name,
    source,
    platform_match_score,
    datasets,
    events_received,
    event_coverage_pct,
    email_coverage_pct,
    phone_coverage_pct,
    acr_pct
from unioned
