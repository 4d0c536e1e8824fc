{#- Presence and validity of each required or recommended field in server purchase events,
    per event day, platform and event name. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_changed_days('event') }}",
) }}
-- depends_on: {{ ref('int_changed_days') }}
select
    event_date as report_date,
    platform,
    event_name,
    field_name,
    requirement,
    cast(count(*) as {{ dbt.type_bigint() }}) as events,
    cast(sum(case when is_present then 1 else 0 end) as {{ dbt.type_bigint() }}) as events_present,
    cast(sum(case when is_valid then 1 else 0 end) as {{ dbt.type_bigint() }}) as events_valid,
    1.0 * sum(case when is_present then 1 else 0 end) / count(*) as coverage_pct,
    1.0 * sum(case when is_valid then 1 else 0 end) / count(*) as validity_pct
from {{ ref('int_event_fields') }}
where {{ on_changed_days('event_date', 'event') }}
group by event_date, platform, event_name, field_name, requirement
