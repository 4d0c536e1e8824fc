{#- One row per server event and match key of its platform (seeds/match_keys.csv): the value
    sent (the first one when the key holds a list, as Meta's SDK sends), whether it is there,
    whether it is valid, whether it is plaintext in a must-hash key, and whether a hashed
    email or phone differs from the hash of the same order's normalized backend value. -#}
with

events as (

    select event_key, platform, event_name, event_date, is_purchase, order_id, user_json
    from {{ ref('int_events') }}
    where channel = 'server'

),

match_keys as (

    select * from {{ ref('match_keys') }}

),

platforms as (

    select platform, phone_hash_format from {{ ref('platforms') }}

),

orders as (

    select order_id, email_sha256, phone_sha256, phone_e164_sha256
    from {{ ref('stg_backend__orders') }}

),

extracted as (

    select
        events.*,
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

),

judged as (

    select
        extracted.*,
        coalesce(trim(key_value), '') <> '' as is_present,
        coalesce({{ regex_full_match('key_value', "'^[0-9a-f]{64}$'") }}, false) as is_hashed,
        coalesce({{ regex_full_match('key_value', 'valid_pattern') }}, false) as is_valid
    from extracted

)

select
    judged.event_key,
    judged.platform,
    judged.event_name,
    judged.event_date,
    judged.is_purchase,
    judged.order_id,
    judged.match_key,
    judged.native_key,
    judged.must_hash,
    judged.is_present,
    judged.is_valid,
    judged.is_present and not judged.is_valid as is_invalid,
    -- anything but 64 lowercase hex characters in a must-hash key is plaintext PII
    judged.must_hash and judged.is_present and not judged.is_hashed as is_plaintext,
    judged.is_hashed and judged.match_key in ('email', 'phone') and case judged.match_key
        when 'email' then orders.email_sha256
        else case platforms.phone_hash_format when 'e164' then orders.phone_e164_sha256 else orders.phone_sha256 end
    end <> judged.key_value as is_hash_mismatch
from judged
inner join platforms
    on judged.platform = platforms.platform
left join orders
    on judged.order_id = orders.order_id
