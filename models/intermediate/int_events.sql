{#- Every event of every platform in one canonical shape, typed and tied to its order.
    Platforms come from var('platforms'): a new platform is one more stg_<platform>__events
    model and seed rows, not an edit here. -#}
with

events as (

    {% for platform in var('platforms') %}
    select * from {{ ref('stg_' ~ platform ~ '__events') }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

purchase_event_names as (

    select distinct platform, lower(event_name) as event_name_lower
    from {{ ref('purchase_event_names') }}

),

orders as (

    select order_id, created_at from {{ ref('stg_backend__orders') }}

),

typed as (

    select
        events.*,
        {{ safe_to_double('events.event_time_raw') }} as event_time_number,
        {{ safe_to_double('events.value_raw') }} as value_number,
        upper(trim(events.currency_raw)) as currency
    from events

),

linked as (

    select
        typed.*,
        -- an event belongs to an order through its order id, else through an event_id
        -- equal to an order id (the dedup key the platforms suggest for purchases)
        coalesce(by_ref.order_id, by_event_id.order_id) as order_id,
        coalesce(by_ref.created_at, by_event_id.created_at) as order_created_at,
        purchase_event_names.event_name_lower is not null as is_purchase,
        -- Unix seconds are the documented unit; a value this large is milliseconds
        case
            when typed.event_time_number is null then null
            when typed.event_time_number >= 100000000000 then 'milliseconds'
            else 'seconds'
        end as event_time_unit
    from typed
    left join orders as by_ref
        on typed.order_ref = by_ref.order_id
    left join orders as by_event_id
        on typed.event_id = by_event_id.order_id
    left join purchase_event_names
        on typed.platform = purchase_event_names.platform
        and lower(typed.event_name) = purchase_event_names.event_name_lower

),

final as (

    select
        linked.*,
        {{ epoch_to_timestamp(
            "case when event_time_unit = 'milliseconds' then event_time_number / 1000 else event_time_number end"
        ) }} as event_at
    from linked

)

select
    *,
    -- event-level metrics count on the event's day; an event without a usable event_time
    -- counts on the day it was sent, so it still shows up (as invalid) in the marts
    {{ local_date('coalesce(event_at, sent_at)') }} as event_date
from final
