{#- Scorecard check pii_hashing: server events that sent a must-hash key (email, phone,
    names, address...) as plaintext. Direction `at_most` pii_plaintext_events_max (default 0):
    any is a fail, it is personal data sent unprotected. -#}
with

platforms as ({{ audited_platforms() }}),

bounds as ({{ check_bounds('pii_hashing') }}),

keys as (

    select platform, event_key, match_key, is_plaintext
    from {{ ref('int_event_match_keys') }}
    where {{ in_audit_window('event_date') }}

),

totals as (

    select
        platform,
        count(*) as events,
        sum(case when has_plaintext_pii then 1 else 0 end) as plaintext_events
    from {{ ref('int_event_match_quality') }}
    where {{ in_audit_window('event_date') }}
    group by platform

),

worst_key as (

    select
        platform,
        match_key,
        count(*) as plaintext_values,
        row_number() over (partition by platform order by count(*) desc, match_key) as key_rank
    from keys
    where is_plaintext
    group by platform, match_key

),

measured as (

    select
        platforms.platform,
        platforms.display_name,
        totals.plaintext_events,
        worst_key.match_key,
        worst_key.plaintext_values,
        totals.events
    from platforms
    left join totals on platforms.platform = totals.platform
    left join worst_key on platforms.platform = worst_key.platform and worst_key.key_rank = 1

),

judged as (

    select
        measured.*,
        bounds.pass_bound,
        {{ check_status('measured.plaintext_events', 'bounds.direction', 'bounds.pass_bound', 'bounds.floor_bound',
                        'measured.events > 0') }} as status
    from measured
    left join bounds on 1 = 1

)

select
    platform,
    'pii_hashing' as check_name,
    {{ window_columns() }},
    cast(plaintext_events as {{ type_double() }}) as metric_value,
    cast(pass_bound as {{ type_double() }}) as threshold,
    status,
    case status
        when 'no_data' then 'No ' || display_name || ' server events in the window.'
        when 'pass' then 'Every customer identifier sent to ' || display_name || ' that must be hashed was SHA-256 hashed.'
        else
            {{ plural('plaintext_events', 'server event', 'server events') }} || ' sent customer data to ' || display_name
            || ' in plaintext, mostly ' || match_key || ' (' || {{ fmt_int('plaintext_values') }}
            || '): personal data sent unprotected. Normalize and SHA-256 hash it before sending.'
    end as summary
from judged
