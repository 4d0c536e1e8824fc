{#- The match keys each server event carried, one row per event and key of its platform
    (seeds/match_keys.csv): the value (the first one when the key holds a list, as Meta's SDK
    sends), and whether it is present, hashed and valid. Reading JSON is costly and an event
    never changes, so this is incremental: each event is read once. -#}
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='sync_all_columns') }}

with

events as (

    select event_key, platform, user_json
    from {{ ref('int_events') }}
    where channel = 'server'
    {% if is_incremental() %}
        and event_key not in (select event_key from {{ this }})
    {% endif %}

),

match_keys as (

    select * from {{ ref('match_keys') }}

),

extracted as (

    select
        events.event_key,
        events.platform,
        match_keys.match_key,
        match_keys.native_key,
        match_keys.must_hash,
        match_keys.valid_pattern,
        case
            when {{ json_kind('events.user_json', "'$.\"' || match_keys.native_key || '\"'") }} = 'ARRAY'
                then {{ json_value('events.user_json', "'$.\"' || match_keys.native_key || '\"[0]'") }}
            else {{ json_value('events.user_json', "'$.\"' || match_keys.native_key || '\"'") }}
        end as key_value
    from events
    inner join match_keys
        on events.platform = match_keys.platform

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
    coalesce({{ regex_full_match('key_value', 'valid_pattern') }}, false) as is_valid
from extracted
