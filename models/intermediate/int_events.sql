{#- Every event of every platform in one canonical shape, typed. Platforms come from
    var('platforms'): a new platform is one more stg_<platform>__events model and seed rows,
    not an edit here. Nothing here depends on orders (int_event_orders ties events to them).
    A view: the staging tables already hold each event once, flattened once; copying them
    would double the biggest write of a full build, and a reader's filter on _audited_at (the
    time the line was flattened) reaches the staging tables' blocks through the view. -#}
{{ config(materialized='view') }}

{#- TEMPORARY, until the typed delivery log (branch h-typedlog) delivers `key_<match_key>`:
    each match key's value read here from user_json, by the seed's native keys per platform
    (the first item of a list, else the scalar's text; null when absent). -#}
{%- set key_rows = match_key_seed_rows() -%}
{%- set native_keys = key_rows | map(attribute=1) | unique | sort | list -%}

with

events as (

    {% for platform in var('platforms') %}
        select * from {{ ref('stg_' ~ platform ~ '__events') }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

purchase_event_names as (

    select distinct
        platform,
        lower(event_name) as event_name_lower
    from {{ ref('purchase_event_names') }}

),

typed as (

    select
        events.*,
        {{ safe_to_double('events.event_time_raw') }} as event_time_number,
        {{ safe_to_double('events.value_raw') }} as value_number,
        upper(trim(events.currency_raw)) as currency
    from events

),

classified as (

    select
        typed.*,
        purchase_event_names.event_name_lower is not null as is_purchase,
        -- Unix seconds are the documented unit; a value this large is milliseconds
        case
            when typed.event_time_number is null then null
            when typed.event_time_number >= 100000000000 then 'milliseconds'
            else 'seconds'
        end as event_time_unit
    from typed
    left join purchase_event_names
        on
            typed.platform = purchase_event_names.platform
            and lower(typed.event_name) = purchase_event_names.event_name_lower

),

-- TEMPORARY (see the top): every native key's JSON in one parse of the customer object
native_key_json as (

    select
        classified.*,
        {%- set paths = {} -%}
        {%- for native_key in native_keys -%}
            {%- do paths.update({'native_' ~ native_key: '$."' ~ native_key ~ '"'}) -%}
        {%- endfor -%}
        {{ json_fragments('classified.user_json', paths) }}
    from classified

),

-- TEMPORARY (see the top): the JSON each match key was sent as, by the event's platform
key_json as (

    select
        {% for match_key in canonical_match_keys() %}
            case native_key_json.platform
                {% for row in key_rows if row[2] == match_key %}
                    when '{{ row[0] }}' then native_key_json.native_{{ row[1] }}
                {% endfor %}
            end as key_json_{{ match_key }},
        {% endfor %}
        native_key_json.*
    from native_key_json

),

timed as (

    select
        key_json.*,
        {{ epoch_to_timestamp(
            "case when event_time_unit = 'milliseconds' then event_time_number / 1000 else event_time_number end"
        ) }} as event_at
    from key_json

)

select
    event_key,
    record_id,
    event_index,
    platform,
    channel,
    pixel_id,
    event_id,
    order_ref,
    event_name,
    event_time_raw,
    action_source,
    event_source_url,
    value_raw,
    value_json_type,
    currency_raw,
    user_json,
    properties_json,
    pii_json,
    sent_at,
    http_status,
    platform_error,
    is_request_accepted,
    event_time_number,
    value_number,
    currency,
    is_purchase,
    event_time_unit,
    event_at,
    -- event-level metrics count on the event's day; an event without a usable event_time
    -- counts on the day it was sent, so it still shows up (as invalid) in the marts
    {{ local_date('coalesce(event_at, sent_at)') }} as event_date,
    -- TEMPORARY (see the top): the value of each match key
    {% for match_key in canonical_match_keys() %}
        case
            when {{ json_kind('key_json_' ~ match_key, "'$'") }} = 'ARRAY'
                then {{ json_value('key_json_' ~ match_key, "'$[0]'") }}
            else {{ json_value('key_json_' ~ match_key, "'$'") }}
        end as key_{{ match_key }},
    {% endfor %}
    _dlt_load_id,
    _audited_at
from timed
