{#- Presence and validity of each required or recommended field in server purchase events,
    per event day, platform and event name. -#}
{{ config(
    materialized='incremental',
    incremental_strategy=daily_mart_strategy(),
    partition_by=daily_mart_partition_by(),
    on_schema_change='fail',
    pre_hook="{{ delete_changed_days('event') }}",
) }}
-- depends_on: {{ ref('int_changed_days') }}
with

counted as (

    {{ event_field_counts(on_changed_days('event_date', 'event'), ['event_date', 'platform', 'event_name']) }}

)

select
    event_date as report_date,
    platform,
    cast(event_name as {{ dbt.type_string() }}) as event_name,
    field_name,
    requirement,
    cast(events as {{ dbt.type_bigint() }}) as events,
    cast(events_present as {{ dbt.type_bigint() }}) as events_present,
    cast(events_valid as {{ dbt.type_bigint() }}) as events_valid,
    {{ ratio('events_present', 'events') }} as coverage_pct,
    {{ ratio('events_valid', 'events') }} as validity_pct
from counted
