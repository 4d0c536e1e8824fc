{#- The match keys each server event carried, one row per event and key of its platform
    (seeds/match_keys.csv): the value (the first one when the key holds a list, as Meta's SDK
    sends), and whether it is present, hashed and valid. Reading JSON is costly and an event
    never changes, so this is incremental: each event is read once, and its customer
    information object is parsed once, not once per key. -#}
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='sync_all_columns') }}

with

events as (

    select event_key, platform, user_json
    from {{ ref('int_events') }} as all_events
    where channel = 'server'
    {% if is_incremental() %}
        and not exists (select 1 from {{ this }} as done where done.event_key = all_events.event_key)
    {% endif %}

),

sent_keys as (

    select
        events.event_key,
        entries.key as native_key,
        case
            when {{ json_kind('entries.value', "'$'") }} = 'ARRAY' then {{ json_value('entries.value', "'$[0]'") }}
            else {{ json_value('entries.value', "'$'") }}
        end as key_value
    from events
    {{ json_object_entries('events.user_json', 'entries') }}

),

all_keys as (

    -- every key of the platform, sent or not: coverage needs the events without it too
    select
        events.event_key,
        events.platform,
        match_keys.match_key,
        match_keys.native_key,
        match_keys.must_hash,
        match_keys.validation,
        sent_keys.key_value
    from events
    inner join {{ ref('match_keys') }} as match_keys
        on events.platform = match_keys.platform
    left join sent_keys
        on events.event_key = sent_keys.event_key
        and match_keys.native_key = sent_keys.native_key

)

select
    event_key,
    platform,
    match_key,
    native_key,
    must_hash,
    key_value,
    coalesce(trim(key_value), '') <> '' as is_present,
    coalesce({{ regex_full_match('key_value', "'^[0-9a-f]{64}$'") }}, false) as is_hashed,
    coalesce({{ match_key_is_valid('key_value', 'validation') }}, false) as is_valid
from all_keys
