{#- One row per server purchase event, with whether each field that has a rule is present and
    valid (<field>_present, <field>_valid). Which fields a platform requires or recommends is
    seeds/required_fields.csv, applied when counting (macros/event_fields.sql); fields scoped
    to web apply to events whose action source is a website (or missing). Valid means: a
    value is a number above 0 (a JSON number, or a string
    that reads as one like "12.99"; "12,99" does not); a currency is a real ISO 4217
    code in any case; event_time is Unix seconds, not milliseconds, and not after sending.
    An order id is valid when it is a backend order's, so the event's tie to its order
    (int_event_orders) decides: incremental, the batch is the events whose tie changed since
    the last build (new events, late orders), read from their days only. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='event_key',
    on_schema_change='sync_all_columns',
) }}

{%- set batch_days -%}
    select event_date from {{ ref('int_event_orders') }}
    where channel = 'server' and is_purchase and {{ changed_since_last_build() }}
{%- endset %}

with

batch as (

    select
        event_key,
        event_date,
        order_id
    from {{ ref('int_event_orders') }}
    where channel = 'server' and is_purchase
    {%- if is_incremental() %}
        and {{ changed_since_last_build() }}
    {%- endif %}

),

events as (

    -- only the columns the rules read (macros/event_fields.sql): not the JSON payload parts
    select
        events.event_key,
        events.platform,
        events.event_name,
        events.event_date,
        events.event_id,
        events.event_time_raw,
        events.event_time_unit,
        events.event_at,
        events.sent_at,
        events.action_source,
        events.event_source_url,
        events.value_raw,
        events.value_number,
        events.currency_raw,
        events.currency,
        events.order_ref,
        batch.order_id
    from {{ ref('int_events') }} as events
    inner join batch
        on
            events.event_key = batch.event_key
            and events.event_date = batch.event_date
    where
        events.channel = 'server' and events.is_purchase
        and {{ within_days_of('events.event_date', batch_days) }}

),

key_flags as (

    select
        match_keys.event_key,
        sum(case when match_keys.is_present then 1 else 0 end) as present_keys,
        sum(case when match_keys.is_valid then 1 else 0 end) as valid_keys,
        max(case when match_keys.match_key = 'user_agent' and match_keys.is_present then 1 else 0 end) = 1
            as has_user_agent_present,
        max(case when match_keys.match_key = 'user_agent' and match_keys.is_valid then 1 else 0 end) = 1
            as has_user_agent,
        max(case when match_keys.match_key = 'external_id' and match_keys.is_present then 1 else 0 end) = 1
            as has_external_id_present,
        max(case when match_keys.match_key = 'external_id' and match_keys.is_valid then 1 else 0 end) = 1
            as has_external_id
    from {{ ref('int_event_match_keys') }} as match_keys
    where match_keys.is_purchase
    {%- if is_incremental() %}
        and {{ within_days_of('match_keys.event_date', batch_days) }}
        and exists (
            select 1 from batch
            where batch.event_key = match_keys.event_key and batch.event_date = match_keys.event_date
        )
    {%- endif %}
    group by match_keys.event_key

),

prepared as (

    select
        events.*,
        coalesce(key_flags.present_keys, 0) as present_keys,
        coalesce(key_flags.valid_keys, 0) as valid_keys,
        coalesce(key_flags.has_user_agent_present, false) as has_user_agent_present,
        coalesce(key_flags.has_user_agent, false) as has_user_agent,
        coalesce(key_flags.has_external_id_present, false) as has_external_id_present,
        coalesce(key_flags.has_external_id, false) as has_external_id,
        action_sources.action_source is not null as is_known_action_source,
        coalesce(action_sources.is_web, events.action_source is null) as is_web,
        currencies.currency_code is not null as is_iso_currency
    from events
    left join key_flags
        on events.event_key = key_flags.event_key
    left join {{ ref('action_sources') }} as action_sources
        on
            events.platform = action_sources.platform
            and events.action_source = action_sources.action_source
    left join {{ ref('iso_4217_currencies') }} as currencies
        on events.currency = currencies.currency_code

)

select
    event_key,
    platform,
    event_name,
    event_date,
    order_id,
    is_web,
    {{ event_field_flags() }},
    {{ audit_run_at() }} as _audited_at
from prepared
