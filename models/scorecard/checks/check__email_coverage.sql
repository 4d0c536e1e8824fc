{#- Scorecard check email_coverage: the share of server purchase events carrying a valid
    hashed email. Direction `at_least`: pass at or above email_coverage_min, else fail. The sentence says which
    purchase path most of the events without email come from, and counts plaintext emails
    and hashes that don't match the backend's. -#}
with

platforms as ({{ audited_platforms() }}
),

bounds as ({{ check_bounds('email_coverage') }}
),

events as (

    select
        quality.*,
        coalesce(checks.has_hash_mismatch, false) as has_hash_mismatch,
        orders.purchase_path
    from {{ ref('int_event_flags') }} as quality
    left join {{ ref('int_event_hash_checks') }} as checks
        on quality.event_key = checks.event_key
    left join {{ ref('int_orders') }} as orders
        on checks.order_id = orders.order_id
    where quality.is_purchase and {{ in_audit_window('quality.event_date') }}

),

totals as (

    select
        platform,
        count(*) as events,
        sum(case when key_email_valid then 1 else 0 end) as events_with_email,
        sum(case when has_hash_mismatch then 1 else 0 end) as hash_mismatch_events
    from events
    group by platform

),

missing_by_path as (

    select
        platform,
        coalesce(purchase_path, 'unknown') as purchase_path,
        count(*) as events_without_email,
        row_number()
            over (partition by platform order by count(*) desc, coalesce(purchase_path, 'unknown'))
            as path_rank
    from events
    where not key_email_valid
    group by platform, coalesce(purchase_path, 'unknown')

),

measured as (

    select
        platforms.platform,
        platforms.display_name,
        totals.events,
        totals.events_with_email,
        totals.hash_mismatch_events,
        {{ ratio('totals.events_with_email', 'nullif(totals.events, 0)') }} as coverage,
        missing_by_path.purchase_path as top_missing_path,
        missing_by_path.events_without_email as top_missing_events
    from platforms
    left join totals on platforms.platform = totals.platform
    left join missing_by_path on platforms.platform = missing_by_path.platform and missing_by_path.path_rank = 1

),

judged as (

    select
        measured.*,
        bounds.pass_bound,
        {{ check_status('measured.coverage', 'bounds.direction', 'bounds.pass_bound', 'bounds.floor_bound',
                        'measured.events > 0') }} as status
    from measured
    left join bounds on 1 = 1

)

select
    judged.platform,
    'email_coverage' as check_name,
    {{ window_columns() }},
    cast(judged.coverage as {{ type_double() }}) as metric_value,
    cast(judged.pass_bound as {{ type_double() }}) as threshold,
    judged.status,
    case
        when judged.status = 'no_data'
            then
                'No ' || judged.display_name || ' purchase events were sent by the server in the window.'
        else
            {{ fmt_pct('judged.coverage') }}
            || ' of '
            || judged.display_name
            || ' purchase events carry a valid hashed email ('
            || {{ fmt_int('judged.events_with_email') }} || ' of ' || {{ fmt_int('judged.events') }} || '; target '
            || {{ fmt_pct('judged.pass_bound') }} || ').'
            || case
                when judged.events > judged.events_with_email
                    then
                        ' Most events without one are ' || coalesce(paths.label, judged.top_missing_path) || ' ('
                        || {{ fmt_int('judged.top_missing_events') }} || ').'
                else ''
            end
            || case
                when judged.hash_mismatch_events > 0
                    then
                        ' ' || {{ plural('judged.hash_mismatch_events', 'event sends', 'events send') }}
                        || ' an email or phone hash that differs from your backend''s:'
                        || ' normalize (trim, lowercase) before hashing.'
                else ''
            end
    end as summary
from judged
left join {{ ref('purchase_paths') }} as paths
    on judged.top_missing_path = paths.purchase_path
