{#- Match quality of server events per event day, platform and event name: key coverage, our
    estimated score, the platform's own score where it reported one (Meta's Dataset Quality API
    snapshot first, else the report's score column, from fct_platform_match_quality_daily), and
    the privacy and correctness findings (plaintext PII, hashes that don't match the backend). -#}
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
        quality.*,
        coalesce(checks.has_hash_mismatch, false) as has_hash_mismatch
    from {{ ref('int_event_flags') }} as quality
    left join {{ ref('int_event_hash_checks') }} as checks
        on quality.event_key = checks.event_key
    where {{ on_changed_days('quality.event_date', 'event') }}

),

reported as (

    -- the platform's own score: Meta's Dataset Quality API snapshot taken that day where there
    -- is one, else the score of the platform's report (weighted by events over its pixels)
    select
        report_date,
        platform,
        lower(event_name) as event_name_lower,
        coalesce(
            max(case when source = 'dataset_quality_api' then platform_match_score end),
            max(case when source = 'platform_report' then platform_match_score end)
        ) as platform_match_score
    from {{ ref('fct_platform_match_quality_daily') }}
    group by report_date, platform, lower(event_name)

),

daily as (

    select
        event_date as report_date,
        platform,
        event_name,
        cast(count(*) as {{ dbt.type_bigint() }}) as events,
        {{ ratio('sum(case when key_email_valid then 1 else 0 end)', 'count(*)') }} as email_coverage_pct,
        {{ ratio('sum(case when key_phone_valid then 1 else 0 end)', 'count(*)') }} as phone_coverage_pct,
        avg(estimated_match_score) as estimated_match_score,
        cast(sum(case when has_plaintext_pii then 1 else 0 end) as {{ dbt.type_bigint() }}) as unhashed_pii_events,
        cast(sum(case when has_hash_mismatch then 1 else 0 end) as {{ dbt.type_bigint() }}) as hash_mismatch_events,
        cast(sum(case when is_too_broad then 1 else 0 end) as {{ dbt.type_bigint() }}) as too_broad_events
    from events
    group by event_date, platform, event_name

)

select
    daily.report_date,
    daily.platform,
    cast(daily.event_name as {{ dbt.type_string() }}) as event_name,
    daily.events,
    daily.email_coverage_pct,
    daily.phone_coverage_pct,
    daily.estimated_match_score,
    reported.platform_match_score,
    daily.unhashed_pii_events,
    daily.hash_mismatch_events,
    daily.too_broad_events
from daily
left join reported
    on
        daily.report_date = reported.report_date
        and daily.platform = reported.platform
        and lower(daily.event_name) = reported.event_name_lower
