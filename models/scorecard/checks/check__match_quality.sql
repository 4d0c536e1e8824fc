{#- Scorecard check match_quality: the platform's own match score for purchases where it
    reported one (fct_platform_match_quality_daily: the mean of Meta's daily Dataset Quality
    API snapshots when the window has any, else the reports' score weighted by events
    received), else our estimated score (mean over server purchase events).
    Direction `at_least`: pass >= match_quality_pass, warn down to match_quality_floor, fail
    below. The sentence names the key whose absence costs the most score. -#}
with

platforms as ({{ audited_platforms() }}
),

bounds as ({{ check_bounds('match_quality') }}
),

events as (

    select * from {{ ref('int_event_flags') }}
    where is_purchase and {{ in_audit_window('event_date') }}

),

estimated as (

    select
        platform,
        count(*) as events,
        avg(estimated_match_score) as estimated_score
    from events
    group by platform

),

reported_daily as (

    select
        scores.report_date,
        scores.platform,
        scores.source,
        scores.platform_match_score,
        scores.events_received
    from {{ ref('fct_platform_match_quality_daily') }} as scores
    inner join {{ ref('purchase_event_names') }} as purchase_names
        on scores.platform = purchase_names.platform and lower(scores.event_name) = lower(purchase_names.event_name)
    where scores.platform_match_score is not null and {{ in_audit_window('scores.report_date') }}

),

reported as (

    -- Meta's Dataset Quality API snapshots when the window has any (the mean of the daily
    -- snapshots: each is Meta's rolling score on that day), else the reports' score weighted
    -- by events received
    select
        platform,
        case
            when count(case when source = 'dataset_quality_api' then 1 end) > 0
                then avg(case when source = 'dataset_quality_api' then platform_match_score end)
            else sum(platform_match_score * events_received) / nullif(sum(events_received), 0)
        end as platform_score,
        case
            when count(case when source = 'dataset_quality_api' then 1 end) > 0 then 'dataset_quality_api'
            else 'platform_report'
        end as score_source
    from reported_daily
    group by platform

),

platform_keys as (

    select distinct
        platform,
        match_key
    from {{ ref('match_keys') }}

),

-- per platform and key: the purchase events in the window that carry the key valid (summed
-- per key in one pass, then one row per key of the platform)
valid_key_events as (

    select
        {% for key in canonical_match_keys() %}
            sum(case when key_{{ key }}_valid then 1 else 0 end) as {{ key }}_events,
        {% endfor %}
        platform
    from events
    group by platform

),

valid_keys as (

    select
        valid_key_events.platform,
        platform_keys.match_key,
        case platform_keys.match_key
            {% for key in canonical_match_keys() %}
                when '{{ key }}' then valid_key_events.{{ key }}_events
            {% endfor %}
        end as events_with_key
    from valid_key_events
    inner join platform_keys
        on valid_key_events.platform = platform_keys.platform

),

-- the key whose missing coverage costs the most estimated score
key_gaps as (

    select
        estimated.platform,
        platform_keys.match_key,
        1.0 - {{ ratio('coalesce(valid_keys.events_with_key, 0)', 'estimated.events') }} as missing_share,
        weights.weight
    from estimated
    inner join platform_keys
        on estimated.platform = platform_keys.platform
    inner join {{ ref('match_score_weights') }} as weights
        on platform_keys.match_key = weights.match_key
    left join valid_keys
        on
            platform_keys.platform = valid_keys.platform
            and platform_keys.match_key = valid_keys.match_key

),

weakest as (

    select
        *,
        row_number() over (partition by platform order by missing_share * weight desc, match_key) as cost_rank
    from key_gaps

),

measured as (

    select
        platforms.platform,
        platforms.display_name,
        estimated.estimated_score,
        reported.platform_score,
        reported.score_source,
        coalesce(reported.platform_score, estimated.estimated_score) as score,
        weakest.match_key as weakest_key,
        weakest.missing_share as weakest_key_missing_share
    from platforms
    left join estimated on platforms.platform = estimated.platform
    left join reported on platforms.platform = reported.platform
    left join weakest on platforms.platform = weakest.platform and weakest.cost_rank = 1

),

judged as (

    select
        measured.*,
        bounds.pass_bound,
        bounds.floor_bound,
        {{ check_status('measured.score', 'bounds.direction', 'bounds.pass_bound', 'bounds.floor_bound',
                        'measured.score is not null') }} as status
    from measured
    left join bounds on 1 = 1

)

select
    platform,
    'match_quality' as check_name,
    {{ window_columns() }},
    cast(score as {{ type_double() }}) as metric_value,
    cast(pass_bound as {{ type_double() }}) as threshold,
    status,
    case
        when status = 'no_data'
            then
                'No '
                || display_name
                || ' purchase events were sent by the server in the window and no report carries a match score.'
        else
            display_name || '''s match quality for purchases is ' || {{ fmt_number('score') }} || ' of 10'
            || case
                when score_source = 'dataset_quality_api'
                    then
                        ' ('
                        || display_name
                        || '''s own score, from its Dataset Quality API; our estimate from the keys sent is '
                        || coalesce({{ fmt_number('estimated_score') }}, 'not available') || ')'
                when platform_score is not null
                    then
                        ' (' || display_name || '''s own score; our estimate from the keys sent is '
                        || coalesce({{ fmt_number('estimated_score') }}, 'not available') || ')'
                else ' (our estimate from the keys sent; ' || display_name || ' reported no score)'
            end
            || case status
                when 'pass' then ', at or above ' || {{ fmt_number('pass_bound', 0) }} || '.'
                when 'warn' then ', below ' || {{ fmt_number('pass_bound', 0) }} || ': match potential is left behind.'
                else ', below ' || {{ fmt_number('floor_bound', 0) }} || ': a structural problem.'
            end
            || case
                when weakest_key_missing_share > 0
                    then
                        ' Biggest missing key: ' || weakest_key || ', absent or invalid on '
                        || {{ fmt_pct('weakest_key_missing_share') }} || ' of purchase events.'
                else ''
            end
    end as summary
from judged
