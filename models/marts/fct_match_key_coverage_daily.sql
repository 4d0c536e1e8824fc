{#- Coverage of each match key in server events, per event day, platform and event name. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_changed_days('event') }}",
) }}
-- depends_on: {{ ref('int_changed_days') }}

with

events as (

    -- every server event counts, whether it sent the key or not
    select
        event_date,
        platform,
        event_name,
        count(*) as events
    from {{ ref('int_event_match_quality') }}
    where {{ on_changed_days('event_date', 'event') }}
    group by event_date, platform, event_name

),

platform_keys as (

    select distinct
        platform,
        match_key
    from {{ ref('match_keys') }}

),

keys as (

    select
        match_keys.*,
        case match_keys.match_key
            when 'email' then coalesce(checks.is_email_mismatch, false)
            when 'phone' then coalesce(checks.is_phone_mismatch, false)
            else false
        end as is_hash_mismatch
    from {{ ref('int_event_match_keys') }} as match_keys
    left join {{ ref('int_event_hash_checks') }} as checks
        on
            match_keys.event_key = checks.event_key
            and match_keys.match_key in ('email', 'phone')
    where {{ on_changed_days('match_keys.event_date', 'event') }}

),

sent as (

    select
        event_date,
        platform,
        event_name,
        match_key,
        sum(case when is_valid then 1 else 0 end) as events_with_key,
        sum(case when is_invalid then 1 else 0 end) as invalid_events,
        sum(case when is_plaintext then 1 else 0 end) as plaintext_events,
        sum(case when is_hash_mismatch then 1 else 0 end) as hash_mismatch_events
    from keys
    group by event_date, platform, event_name, match_key

)

select
    events.event_date as report_date,
    events.platform,
    events.event_name,
    platform_keys.match_key,
    cast(events.events as {{ dbt.type_bigint() }}) as events,
    cast(coalesce(sent.events_with_key, 0) as {{ dbt.type_bigint() }}) as events_with_key,
    1.0 * coalesce(sent.events_with_key, 0) / events.events as coverage_pct,
    cast(coalesce(sent.invalid_events, 0) as {{ dbt.type_bigint() }}) as invalid_events,
    cast(coalesce(sent.plaintext_events, 0) as {{ dbt.type_bigint() }}) as plaintext_events,
    cast(coalesce(sent.hash_mismatch_events, 0) as {{ dbt.type_bigint() }}) as hash_mismatch_events
from events
inner join platform_keys
    on events.platform = platform_keys.platform
left join sent
    on
        events.event_date = sent.event_date
        and events.platform = sent.platform
        and events.event_name is not distinct from sent.event_name
        and platform_keys.match_key = sent.match_key
