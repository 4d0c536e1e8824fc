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
        user_json
    from {{ ref('int_events') }}
    where channel = 'server'
    {%- if is_incremental() %}
        and {{ changed_since_last_build() }}
    {%- endif %}

),

sent as (

    {% for platform in var('platforms') -%}
        {%- set keys = platform_native_keys(platform) -%}
        {%- set platform_events -%}
            select * from events where platform = '{{ platform }}'
        {%- endset -%}
        {%- if keys %}
            {{ explode_json_keys(platform_events, 'user_json', keys) }}
        {%- else %}
    -- the seed has no match keys for {{ platform }}
    select *, cast(null as {{ dbt.type_string() }}) as native_key, cast(null as {{ dbt.type_string() }}) as key_json
    from events where false
    {%- endif %}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

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
        case
            when {{ json_kind('sent.key_json', "'$'") }} = 'ARRAY' then {{ json_value('sent.key_json', "'$[0]'") }}
            else {{ json_value('sent.key_json', "'$'") }}
        end as key_value
    from sent
    inner join {{ ref('match_keys') }} as match_keys
        on
            sent.platform = match_keys.platform
            and sent.native_key = match_keys.native_key
    where sent.key_json is not null

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
