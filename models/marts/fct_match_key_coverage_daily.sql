{#- Coverage of each match key in server events, per event day, platform and event name. -#}
{{ config(
    materialized='incremental',
    incremental_strategy=daily_mart_strategy(),
    partition_by=daily_mart_partition_by(),
    on_schema_change='fail',
    pre_hook="{{ delete_changed_days('event') }}",
) }}
-- depends_on: {{ ref('int_changed_days') }}

{%- set match_keys = canonical_match_keys() %}
{%- set mismatches = {'email': 'is_email_mismatch', 'phone': 'is_phone_mismatch'} %}

with

-- every server event counts, whether it sent the key or not: each key's events summed per
-- day, platform and event name in one pass over the events' flags
summed as (

    select
        flags.event_date,
        flags.platform,
        flags.event_name,
        {% for key in match_keys %}
            sum(case when flags.key_{{ key }}_valid then 1 else 0 end) as {{ key }}_with_key,
            sum(case when flags.key_{{ key }}_present and not flags.key_{{ key }}_valid then 1 else 0 end)
                as {{ key }}_invalid,
            sum(case when flags.key_{{ key }}_plaintext then 1 else 0 end) as {{ key }}_plaintext,
            {% if key in mismatches %}
                sum(case when checks.{{ mismatches[key] }} then 1 else 0 end) as {{ key }}_hash_mismatch,
            {% else %}
                0 as {{ key }}_hash_mismatch,
            {% endif %}
        {% endfor %}
        count(*) as events
    from {{ ref('int_event_flags') }} as flags
    left join {{ ref('int_event_hash_checks') }} as checks
        on flags.event_key = checks.event_key
    where {{ on_changed_days('flags.event_date', 'event') }}
    group by flags.event_date, flags.platform, flags.event_name

),

platform_keys as (

    select distinct
        platform,
        match_key
    from {{ ref('match_keys') }}

),

-- one row per key of the event's platform: the key's sums picked from the day's row
picked as (

    select
        summed.event_date,
        summed.platform,
        summed.event_name,
        platform_keys.match_key,
        {% for kind in ['with_key', 'invalid', 'plaintext', 'hash_mismatch'] %}
            case platform_keys.match_key
                {% for key in match_keys %}
                    when '{{ key }}' then summed.{{ key }}_{{ kind }}
                {% endfor %}
            end as {{ kind }},
        {% endfor %}
        summed.events
    from summed
    inner join platform_keys
        on summed.platform = platform_keys.platform

)

select
    event_date as report_date,
    platform,
    cast(event_name as {{ dbt.type_string() }}) as event_name,
    match_key,
    cast(events as {{ dbt.type_bigint() }}) as events,
    cast(coalesce(with_key, 0) as {{ dbt.type_bigint() }}) as events_with_key,
    {{ ratio('coalesce(with_key, 0)', 'events') }} as coverage_pct,
    cast(coalesce(invalid, 0) as {{ dbt.type_bigint() }}) as invalid_events,
    cast(coalesce(plaintext, 0) as {{ dbt.type_bigint() }}) as plaintext_events,
    cast(coalesce(hash_mismatch, 0) as {{ dbt.type_bigint() }}) as hash_mismatch_events
from picked
