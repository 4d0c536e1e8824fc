{#- The match keys each server event carried, one row per event and key of its platform
    (seeds/match_keys.csv) that the event sent (even empty): the value (the first one when the
    key holds a list, as Meta's SDK sends), and whether it is present, hashed and valid, and
    plaintext in a must-hash key. Keys an event lacks have no row (the marts count coverage
    against all server events): half the rows of one per event and key.
    Nothing here depends on orders, so each event is read once: incremental, the batch is the
    events typed since the last build, and each customer object is parsed once for all keys. -#}
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='sync_all_columns') }}

with

events as (

    select
        event_key,
        platform,
        event_name,
        event_date,
        is_purchase,
        {{ match_key_columns() }}
        channel
    from {{ ref('int_events') }}
    where channel = 'server'
    {%- if is_incremental() %}
        and {{ changed_since_last_build() }}
    {%- endif %}

),

-- one row per event and key it sent, from the key_<match_key> columns flattened on load
sent as (

    {% for platform in var('platforms') -%}
        {%- for native_key, match_key in platform_key_pairs(platform) %}
            select
                event_key,
                platform,
                event_name,
                event_date,
                is_purchase,
                '{{ native_key }}' as native_key,
                key_{{ match_key }} as key_value
            from events
            where platform = '{{ platform }}' and key_{{ match_key }} is not null
            union all
        {%- endfor %}
    {%- endfor %}
    select
        event_key,
        platform,
        event_name,
        event_date,
        is_purchase,
        cast(null as {{ dbt.type_string() }}) as native_key,
        cast(null as {{ dbt.type_string() }}) as key_value
    from events
    where false

),

valued as (

    select
        sent.event_key,
        sent.platform,
        sent.event_name,
        sent.event_date,
        sent.is_purchase,
        match_keys.match_key,
        match_keys.native_key,
        match_keys.must_hash,
        match_keys.validation,
        sent.key_value
    from sent
    inner join {{ ref('match_keys') }} as match_keys
        on
            sent.platform = match_keys.platform
            and sent.native_key = match_keys.native_key

),

judged as (

    select
        *,
        coalesce(trim(key_value), '') <> '' as is_present,
        coalesce({{ regex_full_match('key_value', "'^[0-9a-f]{64}$'") }}, false) as is_hashed,
        coalesce({{ match_key_is_valid('key_value', 'validation') }}, false) as is_valid
    from valued

)

select
    event_key,
    platform,
    event_name,
    event_date,
    is_purchase,
    match_key,
    native_key,
    must_hash,
    key_value,
    is_present,
    is_hashed,
    is_valid,
    is_present and not is_valid as is_invalid,
    -- anything but 64 lowercase hex characters in a must-hash key is plaintext PII
    must_hash and is_present and not is_hashed as is_plaintext,
    {{ audit_run_at() }} as _audited_at
from judged
