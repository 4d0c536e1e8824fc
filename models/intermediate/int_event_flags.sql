{#- One row per server event, judged in one pass: for each canonical match key
    (seeds/match_keys.csv) whether the event sent it present, hashed (64 lowercase hex
    characters), valid (by the rule the seed names for the platform's key: match_key_is_valid)
    and plaintext (a must-hash key sent present but not hashed); how many keys are present and
    valid; the estimated match score, the sum of the weights (seeds/match_score_weights.csv)
    of the valid keys capped at 10 (platforms publish no weights: ours, in DECISIONLOG.md);
    whether the valid keys are only a subset of a combination Meta rejects under its baseline
    matching rule (seeds/broad_key_sets.csv); the hashed email and phone, compared with the
    order's in int_event_hash_checks; and the field flags of macros/event_fields.sql but the
    one that needs the order tie (counted with int_event_orders). A key the platform does not
    have in the seed is never present. The seeds are joined (one row per platform, per key set)
    so a change of rule is data; only the list of keys, which names the columns, is read when
    the model compiles.
    Nothing here depends on orders, so each event is judged once: incremental, the batch is
    the events typed since the last build. -#}
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='sync_all_columns') }}

{%- set match_keys = canonical_match_keys() %}

with

events as (

    select
        event_key,
        platform,
        event_name,
        event_date,
        is_purchase,
        event_id,
        event_time_raw,
        event_time_unit,
        event_at,
        sent_at,
        action_source,
        event_source_url,
        value_raw,
        value_number,
        currency_raw,
        currency,
        {% for key in match_keys %}
            key_{{ key }},
        {% endfor %}
        order_ref
    from {{ ref('int_events') }}
    where channel = 'server'
    {%- if is_incremental() %}
        and {{ changed_since_last_build() }}
    {%- endif %}

),

-- each platform's keys, one row per platform: whether it has the key, its rule, must-hash
key_rules as (

    select
        {% for key in match_keys %}
            max(case when match_key = '{{ key }}' then 1 else 0 end) = 1 as {{ key }}_is_key,
            max(case when match_key = '{{ key }}' then validation end) as {{ key }}_validation,
            max(case when match_key = '{{ key }}' and must_hash then 1 else 0 end) = 1 as {{ key }}_must_hash,
        {% endfor %}
        platform
    from {{ ref('match_keys') }}
    group by platform

),

weights as (

    select
        {% for key in match_keys %}
            coalesce(max(case when match_key = '{{ key }}' then weight end), 0) as {{ key }}_weight,
        {% endfor %}
        count(*) as weighted_keys
    from {{ ref('match_score_weights') }}

),

-- each key set Meta rejects, one row per set: which keys it holds
key_sets as (

    select
        {% for key in match_keys %}
            max(case when match_key = '{{ key }}' then 1 else 0 end) = 1 as {{ key }}_in_set,
        {% endfor %}
        platform,
        key_set
    from {{ ref('broad_key_sets') }}
    group by platform, key_set

),

judged as (

    select
        events.*,
        {% for key in match_keys %}
            coalesce(key_rules.{{ key }}_is_key and trim(events.key_{{ key }}) <> '', false) as key_{{ key }}_present,
            coalesce(
                key_rules.{{ key }}_is_key and {{ regex_full_match('events.key_' ~ key, "'^[0-9a-f]{64}$'") }}, false
            ) as key_{{ key }}_hashed,
            coalesce(
                key_rules.{{ key }}_is_key
                and {{ match_key_is_valid('events.key_' ~ key, 'key_rules.' ~ key ~ '_validation') }}, false
            ) as key_{{ key }}_valid,
            coalesce(key_rules.{{ key }}_must_hash, false) as key_{{ key }}_must_hash,
        {% endfor %}
        coalesce(action_sources.is_web, events.action_source is null) as is_web,
        action_sources.action_source is not null as is_known_action_source,
        currencies.currency_code is not null as is_iso_currency
    from events
    left join key_rules
        on events.platform = key_rules.platform
    left join {{ ref('action_sources') }} as action_sources
        on
            events.platform = action_sources.platform
            and events.action_source = action_sources.action_source
    left join {{ ref('iso_4217_currencies') }} as currencies
        on events.currency = currencies.currency_code

),

-- anything but 64 lowercase hex characters in a must-hash key is plaintext PII
flagged as (

    select
        judged.*,
        {% for key in match_keys %}
            judged.key_{{ key }}_must_hash and judged.key_{{ key }}_present and not judged.key_{{ key }}_hashed
                as key_{{ key }}_plaintext,
        {% endfor %}
        {% for kind in ['present', 'valid'] %}
            (
                0
                {% for key in match_keys %}
                    + case when judged.key_{{ key }}_{{ kind }} then 1 else 0 end
                {% endfor %}
            ) as {{ kind }}_keys,
        {% endfor %}
        (
            0
            {% for key in match_keys %}
                + case when judged.key_{{ key }}_valid then weights.{{ key }}_weight else 0 end
            {% endfor %}
        ) as valid_key_weight
    from judged
    cross join weights

),

scored as (

    select
        flagged.*,
        -- rounded: a sum of float weights must not depend on the order they are added in
        {{ round_double('least(10.0, flagged.valid_key_weight)', 4) }} as estimated_match_score,
        -- too broad: at least one valid key, and none outside one of the platform's key sets
        flagged.valid_keys > 0 and exists (
            select 1 from key_sets
            where
                key_sets.platform = flagged.platform
                {% for key in match_keys %}
                    and (not flagged.key_{{ key }}_valid or key_sets.{{ key }}_in_set)
                {% endfor %}
        ) as is_too_broad,
        (
            false
            {% for key in match_keys %}
                or flagged.key_{{ key }}_plaintext
            {% endfor %}
        ) as has_plaintext_pii
    from flagged

)

select
    event_key,
    platform,
    event_name,
    event_date,
    is_purchase,
    {% for key in match_keys %}
        key_{{ key }}_present,
        key_{{ key }}_hashed,
        key_{{ key }}_valid,
        key_{{ key }}_plaintext,
    {% endfor %}
    present_keys,
    valid_keys,
    estimated_match_score,
    is_too_broad,
    case when key_email_hashed then key_email end as hashed_email,
    case when key_phone_hashed then key_phone end as hashed_phone,
    has_plaintext_pii,
    order_ref,
    is_web,
    {{ event_field_flags() }},
    {{ audit_run_at() }} as _audited_at
from scored
