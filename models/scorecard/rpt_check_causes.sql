{#- The biggest causes, ranked: what the failing and warning checks are made of, over the
    audit window. A cause is one measurable defect on one platform, counted in the unit it
    happens in: orders for order-level defects (never sent, by purchase path; rejected;
    counted twice), server purchase events for event-level ones (no email, plaintext, hash
    mismatch, late, too old, a required field invalid). Only causes behind a check that did
    not pass (its worst check warns or fails) are listed. Rank: count, largest first; ties go
    to the cause behind a failing check, then the platform order of var('platforms'), then the
    sentence. DECISIONLOG.md: biggest causes. -#}
{% set minutes = '%.0f' | format((var('latency_threshold_seconds') | float) / 60) %}

with

audit_window as (

    select
        window_start,
        window_end
    from {{ ref('int_audit_window') }}

),

platforms as (

    select
        platform,
        display_name
    from {{ ref('platforms') }}

),

purchase_names as (

    select
        platform,
        lower(event_name) as event_name_lower
    from {{ ref('purchase_event_names') }}

),

waterfall as (

    select
        platform,
        sum(case when step = 'backend_purchases' then orders end) as backend_purchases,
        sum(case when step = 'orders_rejected' then orders end) as orders_rejected,
        sum(case when step = 'double_counted_orders' then orders end) as double_counted_orders
    from {{ ref('rpt_gap_waterfall') }}
    group by platform

),

never_sent_by_path as (

    select
        gap.platform,
        gap.purchase_path,
        coalesce(paths.label, gap.purchase_path) as path_label,
        sum(gap.backend_purchases - gap.orders_sent_by_server) as orders_never_sent
    from {{ ref('fct_conversion_gap_by_path') }} as gap
    inner join audit_window
        on gap.report_date between audit_window.window_start and audit_window.window_end
    left join {{ ref('purchase_paths') }} as paths
        on gap.purchase_path = paths.purchase_path
    group by gap.platform, gap.purchase_path, paths.label

),

quality as (

    select
        quality.platform,
        sum(quality.events - round(quality.email_coverage_pct * quality.events)) as events_without_email,
        sum(quality.unhashed_pii_events) as plaintext_pii_events,
        sum(quality.hash_mismatch_events) as hash_mismatch_events
    from {{ ref('fct_match_quality_daily') }} as quality
    inner join audit_window
        on quality.report_date between audit_window.window_start and audit_window.window_end
    where
        exists (
            select 1 from purchase_names
            where
                purchase_names.platform = quality.platform
                and purchase_names.event_name_lower = lower(quality.event_name)
        )
    group by quality.platform

),

latency as (

    select
        latency.platform,
        sum(latency.events_too_old) as events_too_old,
        -- events tied to an order that left later than the latency threshold
        sum(
            latency.events_with_order
            - round(coalesce(latency.within_threshold_pct, 1) * latency.events_with_order)
        ) as late_events
    from {{ ref('fct_event_latency_daily') }} as latency
    inner join audit_window
        on latency.report_date between audit_window.window_start and audit_window.window_end
    group by latency.platform

),

events as (

    select
        coalesce(quality.platform, latency.platform) as platform,
        quality.events_without_email,
        quality.plaintext_pii_events,
        quality.hash_mismatch_events,
        latency.late_events,
        latency.events_too_old
    from quality
    full outer join latency on quality.platform = latency.platform

),

invalid_fields as (

    select
        field_coverage.platform,
        field_coverage.field_name,
        sum(field_coverage.events - field_coverage.events_valid) as events_invalid
    from {{ ref('fct_field_coverage_daily') }} as field_coverage
    inner join audit_window
        on field_coverage.report_date between audit_window.window_start and audit_window.window_end
    where
        field_coverage.requirement = 'required'
        and exists (
            select 1 from purchase_names
            where
                purchase_names.platform = field_coverage.platform
                and purchase_names.event_name_lower = lower(field_coverage.event_name)
        )
    group by field_coverage.platform, field_coverage.field_name

),

{#- One select per kind of cause: the relation it reads, its key, the sentence and the fix
    ({name} becomes the platform's display name), the count, its unit and the checks it
    weighs on. -#}
{% set causes = [
    {'source': 'never_sent_by_path', 'key': "'never_sent:' || purchase_path",
     'sentence': "upper(substr(path_label, 1, 1)) || substr(path_label, 2) || ' never sent to {name} by your server'",
     'affected': 'orders_never_sent', 'unit': 'orders', 'checks': ['conversion_gap'],
     'fix': "'Send ' || path_label || ' to {name} from your server.'"},
    {'source': 'waterfall', 'key': "'rejected'", 'sentence': "'Orders sent to {name} but rejected'",
     'affected': 'orders_rejected', 'unit': 'orders', 'checks': ['conversion_gap'],
     'fix': "'Read {name}''s error responses in the delivery log and fix the payload.'"},
    {'source': 'waterfall', 'key': "'double_counted'",
     'sentence': "'Orders {name} counts twice (pixel and server events without a shared event_id)'",
     'affected': 'double_counted_orders', 'unit': 'orders', 'checks': ['conversion_gap', 'deduplication'],
     'fix': "'Send the same event_id (the order id) from the pixel and the server.'"},
    {'source': 'events', 'key': "'no_email'", 'sentence': "'{name} purchase events without a valid hashed email'",
     'affected': 'events_without_email', 'unit': 'purchase events', 'checks': ['email_coverage', 'match_quality'],
     'fix': "'Send the customer''s email, trimmed, lowercased and SHA-256 hashed, with every purchase.'"},
    {'source': 'events', 'key': "'plaintext_pii'", 'sentence': "'{name} events with customer data in plaintext'",
     'affected': 'plaintext_pii_events', 'unit': 'purchase events', 'checks': ['pii_hashing'],
     'fix': "'Normalize and SHA-256 hash every must-hash key before sending.'"},
    {'source': 'events', 'key': "'hash_mismatch'",
     'sentence': "'{name} events whose email or phone hash differs from your backend''s'",
     'affected': 'hash_mismatch_events', 'unit': 'purchase events', 'checks': ['email_coverage', 'match_quality'],
     'fix': "'Normalize (trim, lowercase, E.164 phones) before hashing.'"},
    {'source': 'events', 'key': "'late'",
     'sentence': "'{name} purchase events sent more than " ~ minutes ~ " minutes after the order'",
     'affected': 'late_events', 'unit': 'purchase events', 'checks': ['timeliness'],
     'fix': "'Send purchases as they happen, not in batches.'"},
    {'source': 'events', 'key': "'too_old'",
     'sentence': "'{name} purchase events too old for {name} to accept when sent'",
     'affected': 'events_too_old', 'unit': 'purchase events', 'checks': ['timeliness'],
     'fix': "'Send purchases within the platform''s event-age limit.'"},
    {'source': 'invalid_fields', 'key': "'invalid_field:' || field_name",
     'sentence': "'{name} purchase events with ' || field_name || ' missing or invalid'",
     'affected': 'events_invalid', 'unit': 'purchase events', 'checks': ['field_coverage'],
     'fix': "'Send a valid ' || field_name || ' with every purchase.'"},
] %}

candidates as (

    {% for c in causes %}
        select
            platform,
            {{ c.key }} as cause_key,
            {{ c.sentence }} as cause_template,
            {{ c.affected }} as affected,
            '{{ c.unit }}' as unit,
            '{{ c.checks[0] }}' as check_name,
            {% if c.checks | length > 1 %}'{{ c.checks[1] }}'{% else %}cast(null as {{ dbt.type_string() }}){% endif %}
                as also_check_name,
            {{ c.fix }} as fix_template
        from {{ c.source }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

severities as (

    select
        'fail' as status,
        0 as severity
    union all
    select
        'warn' as status,
        1 as severity
    union all
    select
        'no_data' as status,
        2 as severity
    union all
    select
        'pass' as status,
        3 as severity

),

judged as (

    select
        candidates.*,
        coalesce(platforms.display_name, upper(substr(candidates.platform, 1, 1)) || substr(candidates.platform, 2))
            as display_name,
        -- the worst status among the checks the cause weighs on; a check not judged is no_data
        case
            when candidates.also_check_name is null then coalesce(first_check.status, 'no_data')
            when coalesce(first_severity.severity, 2) <= coalesce(also_severity.severity, 2)
                then coalesce(first_check.status, 'no_data')
            else coalesce(also_check.status, 'no_data')
        end as status,
        least(coalesce(first_severity.severity, 2), coalesce(also_severity.severity, 2)) as severity,
        case
            {% for platform in var('platforms') %}
                when candidates.platform = '{{ platform }}' then {{ loop.index0 }}
            {% endfor %}
            else {{ var('platforms') | length }}
        end as platform_order,
        waterfall.backend_purchases
    from candidates
    left join platforms on candidates.platform = platforms.platform
    left join {{ ref('rpt_signal_scorecard') }} as first_check
        on candidates.platform = first_check.platform and candidates.check_name = first_check.check_name
    left join severities as first_severity on first_check.status = first_severity.status
    left join {{ ref('rpt_signal_scorecard') }} as also_check
        on candidates.platform = also_check.platform and candidates.also_check_name = also_check.check_name
    left join severities as also_severity on also_check.status = also_severity.status
    left join waterfall on candidates.platform = waterfall.platform
    where candidates.affected > 0

),

listed as (

    select
        *,
        replace(cause_template, '{name}', display_name) as cause
    from judged
    where status in ('fail', 'warn')

)

select
    cast(row_number() over (order by affected desc, severity asc, platform_order asc, cause asc) as integer)
        as cause_rank,
    platform,
    cast(cause_key as {{ dbt.type_string() }}) as cause_key,
    cast(cause as {{ dbt.type_string() }}) as cause,
    cast(affected as {{ dbt.type_bigint() }}) as affected,
    cast(unit as {{ dbt.type_string() }}) as unit,
    cast(check_name as {{ dbt.type_string() }}) as check_name,
    cast(also_check_name as {{ dbt.type_string() }}) as also_check_name,
    cast(status as {{ dbt.type_string() }}) as status,
    case when backend_purchases > 0 then {{ ratio('affected', 'backend_purchases') }} end as share_of_backend_purchases,
    cast(replace(fix_template, '{name}', display_name) as {{ dbt.type_string() }}) as fix
from listed
