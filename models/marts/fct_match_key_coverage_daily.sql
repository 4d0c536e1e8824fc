{#- Coverage of each match key in server events, per event day, platform and event name. -#}
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
from {{ ref('int_event_match_keys') }}
group by event_date, platform, event_name, match_key
