{#- One row per server event: whether its hashed email or phone differs from the hash of the
    same order's normalized backend value (in the platform's phone format: seeds/platforms.csv).
    Events without an order, or without a hashed email or phone, mismatch nothing.
    Incremental: the batch is the events whose tie to an order changed since the last build
    (new events, late orders, re-exported orders), which int_event_orders stamps. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    partition_by=keyed_partition_by('event_date'),
    unique_key='event_key',
    on_schema_change='sync_all_columns',
) }}

{%- set batch_days -%}
    select event_date from {{ ref('int_event_orders') }}
    where channel = 'server' and {{ changed_since_last_build() }}
{%- endset %}

with

tied as (

    select
        event_key,
        platform,
        event_name,
        event_date,
        is_purchase,
        order_id
    from {{ ref('int_event_orders') }}
    where channel = 'server'
    {%- if is_incremental() %}
        and {{ changed_since_last_build() }}
    {%- endif %}

),

quality as (

    select
        event_key,
        hashed_email,
        hashed_phone
    from {{ ref('int_event_flags') }}
    {%- if is_incremental() %}
    where event_key in (select tied.event_key from tied)
        and {{ within_days_of('event_date', batch_days) }}
    {%- endif %}

),

compared as (

    select
        tied.event_key,
        tied.platform,
        tied.event_name,
        tied.event_date,
        tied.is_purchase,
        tied.order_id,
        coalesce(quality.hashed_email <> orders.email_sha256, false) as is_email_mismatch,
        coalesce(quality.hashed_phone <> case platforms.phone_hash_format
            when 'e164' then orders.phone_e164_sha256 else orders.phone_sha256
        end, false) as is_phone_mismatch
    from tied
    inner join quality
        on tied.event_key = quality.event_key
    inner join {{ ref('platforms') }} as platforms
        on tied.platform = platforms.platform
    left join {{ ref('int_orders') }} as orders
        on tied.order_id = orders.order_id

)

select
    *,
    is_email_mismatch or is_phone_mismatch as has_hash_mismatch,
    {{ audit_run_at() }} as _audited_at
from compared
