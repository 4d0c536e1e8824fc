{#- One row per platform and check over the audit window: the metric, the threshold, a
    verdict (pass, warn, fail, no_data), a sentence a marketer understands, and the check's
    title, unit, direction and display order from seeds/checks.csv, so consumers need not know
    check names. Each check is one check__<name> model (models/scorecard/checks/) with the same
    columns, listed here: dbt's graph is empty at parse time, so the union cannot be read from
    the seed. The test tests/dbt/scorecard_judges_every_declared_check.sql fails when this list
    and the seed differ. -#}
{% set check_models = [
    'check__conversion_gap',
    'check__match_quality',
    'check__email_coverage',
    'check__field_coverage',
    'check__deduplication',
    'check__timeliness',
    'check__pii_hashing',
] %}

with

judged as (

    {% for model in check_models %}
    select
        platform,
        check_name,
        window_start,
        window_end,
        metric_value,
        threshold,
        status,
        summary
    from {{ ref(model) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select
    judged.platform,
    judged.check_name,
    judged.window_start,
    judged.window_end,
    cast(judged.metric_value as {{ type_double() }}) as metric_value,
    cast(judged.threshold as {{ type_double() }}) as threshold,
    judged.status,
    judged.summary,
    checks.title,
    checks.unit,
    checks.direction,
    checks.display_order
from judged
-- a left join: a check the seed does not declare keeps its rows, and the test above names it
left join {{ ref('checks') }} as checks
    on judged.check_name = checks.check_name
