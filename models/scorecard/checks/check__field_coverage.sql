{#- Scorecard check field_coverage: the lowest validity among the platform's required
    purchase fields (seeds/required_fields.csv). Direction `at_least`: pass >=
    field_validity_pass, warn down to field_validity_floor, fail below. The sentence names
    that field and whether it is missing or invalid. -#}
with

platforms as ({{ audited_platforms() }}
),

bounds as ({{ check_bounds('field_coverage') }}
),

counted as (

    {{ event_field_counts(in_audit_window('event_date'), ['platform']) }}

),

by_field as (

    select
        platform,
        field_name,
        events,
        {{ ratio('events_valid', 'events') }} as validity,
        {{ ratio('events - events_present', 'events') }} as missing_share,
        {{ ratio('events_invalid', 'events') }} as invalid_share
    from counted
    where requirement = 'required'

),

lowest as (

    select
        *,
        row_number() over (partition by platform order by validity, field_name) as field_rank
    from by_field

),

measured as (

    select
        platforms.platform,
        platforms.display_name,
        lowest.field_name,
        lowest.events,
        lowest.validity,
        lowest.missing_share,
        lowest.invalid_share
    from platforms
    left join lowest on platforms.platform = lowest.platform and lowest.field_rank = 1

),

judged as (

    select
        measured.*,
        bounds.pass_bound,
        {{ check_status('measured.validity', 'bounds.direction', 'bounds.pass_bound', 'bounds.floor_bound',
                        'measured.events > 0') }} as status
    from measured
    left join bounds on 1 = 1

)

select
    platform,
    'field_coverage' as check_name,
    {{ window_columns() }},
    cast(validity as {{ type_double() }}) as metric_value,
    cast(pass_bound as {{ type_double() }}) as threshold,
    status,
    case
        when status = 'no_data'
            then
                'No ' || display_name || ' purchase events were sent by the server in the window.'
        when status = 'pass'
            then
                'Every required ' || display_name || ' purchase field is valid on at least '
                || {{ fmt_pct('validity') }} || ' of events (lowest: ' || field_name || ').'
        else
            'The required field ' || field_name || ' is valid on only ' || {{ fmt_pct('validity') }}
            || ' of ' || display_name || ' purchase events: missing on ' || {{ fmt_pct('missing_share') }}
            || ', present but invalid on ' || {{ fmt_pct('invalid_share') }} || '.'
            || case field_name
                when 'currency' then ' Send a real ISO 4217 code (USD, EUR) with every purchase.'
                when 'value' then ' Send the order total as a number above 0 (12.99, not "12,99").'
                when 'event_time' then ' Send event_time in Unix seconds, not milliseconds, and not in the future.'
                else ' Send ' || field_name || ' with every purchase.'
            end
    end as summary
from judged
