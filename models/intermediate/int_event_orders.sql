{#- Every event, narrow, tied to its backend order: through the order id it carries, else
    through an event_id equal to an order id (the dedup key the platforms suggest for
    purchases). Orders can arrive after their events, so the tie is kept apart from the event
    itself. Incremental: the batch is the new events plus the events that point at an order
    loaded since the last build. An event's tie can only move between the orders its
    order_ref and event_id name, so those two are kept: both orders are recounted. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    partition_by=keyed_partition_by('event_date'),
    unique_key='event_key',
    on_schema_change='sync_all_columns',
) }}

{%- set event_columns = [
    'event_key', 'platform', 'channel', 'event_id', 'order_ref', 'event_name', 'is_purchase',
    'is_request_accepted', 'sent_at', 'event_at', 'event_date',
] -%}

with

orders as (

    select
        order_id,
        created_at
    from {{ ref('int_orders') }}

),

events as (

    select {{ event_columns | join(', ') }}
    from {{ ref('int_events') }}
    {%- if is_incremental() %}
    where {{ changed_since_last_build() }}

    union all

    -- events tied before whose order (by order_ref or event_id) was loaded again or late:
    -- found in this narrow table, not in the wide events
    select {{ event_columns | join(', ') }}
    from {{ this }} as tied
    where tied.order_ref in (select order_id from {{ ref('int_orders') }} where {{ changed_since_last_build() }})
        or tied.event_id in (select order_id from {{ ref('int_orders') }} where {{ changed_since_last_build() }})
    {%- endif %}

)

select
    events.event_key,
    events.platform,
    events.channel,
    events.event_id,
    events.order_ref,
    events.event_name,
    events.is_purchase,
    events.is_request_accepted,
    events.sent_at,
    events.event_at,
    events.event_date,
    coalesce(by_ref.order_id, by_event_id.order_id) as order_id,
    coalesce(by_ref.created_at, by_event_id.created_at) as order_created_at,
    {{ audit_run_at() }} as _audited_at
from events
left join orders as by_ref
    on events.order_ref = by_ref.order_id
left join orders as by_event_id
    on events.event_id = by_event_id.order_id
