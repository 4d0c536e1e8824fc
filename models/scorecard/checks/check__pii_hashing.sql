{#- Scorecard check pii_hashing: server events that sent customer data in plaintext: a
    must-hash key (email, phone, names, address...) not hashed, or an e-mail address or phone
    number anywhere else in what was sent or received (int_event_pii_found). Direction
    `at_most` pii_plaintext_events_max (default 0): any is a fail, it is personal data sent
    unprotected. The sentence names the worst key and places. -#}
with

platforms as ({{ audited_platforms() }}
),

bounds as ({{ check_bounds('pii_hashing') }}
),

events as (

    select * from {{ ref('int_event_flags') }}
    where {{ in_audit_window('event_date') }}

),

platform_keys as (

    select distinct
        platform,
        match_key
    from {{ ref('match_keys') }}

),

-- per platform and must-hash key: the events that sent it in plaintext (summed per key in one
-- pass, then one row per key of the platform)
plaintext_key_events as (

    select
        {% for key in canonical_match_keys() %}
            sum(case when key_{{ key }}_plaintext then 1 else 0 end) as {{ key }}_events,
        {% endfor %}
        platform
    from events
    group by platform

),

plaintext_keys as (

    select
        plaintext_key_events.platform,
        platform_keys.match_key,
        case platform_keys.match_key
            {% for key in canonical_match_keys() %}
                when '{{ key }}' then plaintext_key_events.{{ key }}_events
            {% endfor %}
        end as plaintext_values
    from plaintext_key_events
    inner join platform_keys
        on plaintext_key_events.platform = platform_keys.platform

),

found as (

    select
        platform,
        event_key,
        place,
        kind,
        values_found
    from {{ ref('int_event_pii_found') }}
    where channel = 'server' and {{ in_audit_window('event_date') }}

),

found_events as (

    select distinct event_key from found

),

totals as (

    select
        events.platform,
        count(*) as events,
        sum(case when events.has_plaintext_pii or found_events.event_key is not null then 1 else 0 end)
            as plaintext_events
    from events
    left join found_events
        on events.event_key = found_events.event_key
    group by events.platform

),

-- the three places with the most values found outside the must-hash keys
found_places as (

    select
        platform,
        {{ dbt.listagg('place_label', "', '", 'order by place_values desc, place_label') }} as places
    from (
        select
            platform,
            case kind when 'email' then 'emails' when 'phone' then 'phone numbers' else 'plaintext' end
            || ' in ' || place || ' (' || {{ fmt_int('sum(values_found)') }} || ')' as place_label,
            sum(values_found) as place_values,
            row_number() over (partition by platform order by sum(values_found) desc, kind, place asc) as place_rank
        from found
        group by platform, kind, place
    ) as ranked
    where place_rank <= 3
    group by platform

),

worst_key as (

    select
        platform,
        match_key,
        plaintext_values,
        row_number() over (partition by platform order by plaintext_values desc, match_key asc) as key_rank
    from plaintext_keys
    where plaintext_values > 0

),

measured as (

    select
        platforms.platform,
        platforms.display_name,
        totals.plaintext_events,
        worst_key.match_key,
        worst_key.plaintext_values,
        found_places.places,
        totals.events
    from platforms
    left join totals on platforms.platform = totals.platform
    left join worst_key on platforms.platform = worst_key.platform and worst_key.key_rank = 1
    left join found_places on platforms.platform = found_places.platform

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
        when
            'pass'
            then 'Every customer identifier sent to ' || display_name || ' that must be hashed was SHA-256 hashed.'
        else
            {{ plural('plaintext_events', 'server event', 'server events') }}
            || ' sent customer data to '
            || display_name
            || ' in plaintext'
            || case
                when match_key is not null
                    then ', mostly ' || match_key || ' (' || {{ fmt_int('plaintext_values') }} || ')'
                else ''
            end
            || case
                when places is not null
                    then case when match_key is not null then '; also ' else ': ' end || places
                else ''
            end
            || ': personal data sent unprotected.'
            || case when match_key is not null then ' Normalize and SHA-256 hash it before sending.' else '' end
            || case
                when places is not null
                    then
                        ' Keep e-mail addresses and phone numbers out of URLs and other fields: send them'
                        || ' only SHA-256 hashed, in the match keys.'
                else ''
            end
    end as summary
from judged
