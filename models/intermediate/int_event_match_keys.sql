{#- One row per server event and match key of its platform, judged: present, valid, plaintext
    in a must-hash key, and whether a hashed email or phone differs from the hash of the same
    order's normalized backend value (the platform's phone format: seeds/platforms.csv).
    Rebuilt in full each run: orders can arrive after their events. -#}
with

key_values as (

    select * from {{ ref('int_event_match_key_values') }}

),

events as (

    select event_key, event_name, event_date, is_purchase, order_id
    from {{ ref('int_events') }}
    where channel = 'server'

),

platforms as (

    select platform, phone_hash_format from {{ ref('platforms') }}

),

orders as (

    select order_id, email_sha256, phone_sha256, phone_e164_sha256
    from {{ ref('stg_backend__orders') }}

)

select
    key_values.event_key,
    key_values.platform,
    events.event_name,
    events.event_date,
    events.is_purchase,
    events.order_id,
    key_values.match_key,
    key_values.native_key,
    key_values.must_hash,
    key_values.is_present,
    key_values.is_valid,
    key_values.is_present and not key_values.is_valid as is_invalid,
    -- anything but 64 lowercase hex characters in a must-hash key is plaintext PII
    key_values.must_hash and key_values.is_present and not key_values.is_hashed as is_plaintext,
    key_values.is_hashed and key_values.match_key in ('email', 'phone') and case key_values.match_key
        when 'email' then orders.email_sha256
        else case platforms.phone_hash_format when 'e164' then orders.phone_e164_sha256 else orders.phone_sha256 end
    end <> key_values.key_value as is_hash_mismatch
from key_values
inner join events
    on key_values.event_key = events.event_key
inner join platforms
    on key_values.platform = platforms.platform
left join orders
    on events.order_id = orders.order_id
