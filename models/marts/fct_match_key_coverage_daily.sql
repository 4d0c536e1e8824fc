{#- Coverage of each match key in server events, per event day, platform and event name. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_changed_days('event') }}",
) }}
-- depends_on: {{ ref('int_changed_days') }}

with

keys as (

    select
        keys.*,
        case keys.match_key
            when 'email' then coalesce(checks.is_email_mismatch, false)
            when 'phone' then coalesce(checks.is_phone_mismatch, false)
            else false
        end as is_hash_mismatch
    from {{ ref('int_event_match_keys') }} as keys
    left join {{ ref('int_event_hash_checks') }} as checks
        on keys.event_key = checks.event_key
        and keys.match_key in ('email', 'phone')
    where {{ on_changed_days('keys.event_date', 'event') }}

)

select
    event_date as report_date,
    platform,
    event_name,
    match_key,
    cast(count(*) as {{ dbt.type_bigint() }}) as events,
    cast(sum(case when is_valid then 1 else 0 end) as {{ dbt.type_bigint() }}) as events_with_key,
    1.0 * sum(case when is_valid then 1 else 0 end) / count(*) as coverage_pct,
    cast(sum(case when is_invalid then 1 else 0 end) as {{ dbt.type_bigint() }}) as invalid_events,
    cast(sum(case when is_plaintext then 1 else 0 end) as {{ dbt.type_bigint() }}) as plaintext_events,
    cast(sum(case when is_hash_mismatch then 1 else 0 end) as {{ dbt.type_bigint() }}) as hash_mismatch_events
from keys
group by event_date, platform, event_name, match_key
