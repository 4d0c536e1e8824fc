{#- One row per server event: its match keys summed up. The estimated match score is the sum
    of the weights (seeds/match_score_weights.csv) of the valid keys the event carries,
    capped at 10. Platforms publish no weights; these are ours, documented in DECISIONLOG.md.
    An event is "too broad" when its valid keys are a subset of one of the combinations
    Meta rejects under its baseline matching rule (seeds/broad_key_sets.csv). The hashed email
    and phone are kept for the comparison with the order's (int_event_hash_checks).
    Incremental like its keys: the batch is the events whose keys were judged since. -#}
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='sync_all_columns') }}

with

events as (

    select
        event_key,
        platform,
        event_name,
        event_date,
        is_purchase
    from {{ ref('int_events') }}
    where channel = 'server'
    {%- if is_incremental() %}
        and {{ changed_since_last_build() }}
    {%- endif %}

),

keys as (

    select * from {{ ref('int_event_match_keys') }}
    {%- if is_incremental() %}
    where {{ changed_since_last_build() }}
    {%- endif %}

),

weights as (

    select * from {{ ref('match_score_weights') }}

),

broad_sets as (

    select * from {{ ref('broad_key_sets') }}

),

key_sets as (

    select distinct
        platform,
        key_set
    from broad_sets

),

per_event as (

    select
        keys.event_key,
        max(case when keys.match_key = 'email' and keys.is_valid then 1 else 0 end) = 1 as has_email,
        max(case when keys.match_key = 'phone' and keys.is_valid then 1 else 0 end) = 1 as has_phone,
        max(case when keys.is_plaintext then 1 else 0 end) = 1 as has_plaintext_pii,
        max(case when keys.match_key = 'email' and keys.is_hashed then keys.key_value end) as hashed_email,
        max(case when keys.match_key = 'phone' and keys.is_hashed then keys.key_value end) as hashed_phone,
        sum(case when keys.is_valid then 1 else 0 end) as valid_keys,
        sum(case when keys.is_valid then coalesce(weights.weight, 0) else 0 end) as valid_key_weight
    from keys
    left join weights
        on keys.match_key = weights.match_key
    group by keys.event_key

),

-- for each event and key set of its platform: how many of its valid keys fall outside the set
outside_counts as (

    select
        keys.event_key,
        key_sets.key_set,
        sum(case when keys.is_valid and member.match_key is null then 1 else 0 end) as keys_outside
    from keys
    inner join key_sets
        on keys.platform = key_sets.platform
    left join broad_sets as member
        on
            key_sets.platform = member.platform
            and key_sets.key_set = member.key_set
            and keys.match_key = member.match_key
    group by keys.event_key, key_sets.key_set

),

too_broad as (

    select distinct event_key from outside_counts
    where keys_outside = 0

)

select
    events.event_key,
    events.platform,
    events.event_name,
    events.event_date,
    events.is_purchase,
    coalesce(per_event.has_email, false) as has_email,
    coalesce(per_event.has_phone, false) as has_phone,
    coalesce(per_event.has_plaintext_pii, false) as has_plaintext_pii,
    per_event.hashed_email,
    per_event.hashed_phone,
    coalesce(per_event.valid_keys, 0) as valid_keys,
    -- rounded: a sum of float weights must not depend on the order rows are added in
    round(least(10.0, coalesce(per_event.valid_key_weight, 0)), 4) as estimated_match_score,
    too_broad.event_key is not null and coalesce(per_event.valid_keys, 0) > 0 as is_too_broad,
    {{ audit_run_at() }} as _audited_at
from events
left join per_event
    on events.event_key = per_event.event_key
left join too_broad
    on events.event_key = too_broad.event_key
