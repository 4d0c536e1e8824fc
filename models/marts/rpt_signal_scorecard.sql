{#- One row per platform and check over the audit window: the metric, the threshold, a
    verdict (pass, warn, fail, no_data) and a sentence a marketer understands.
    Each check is one int_check__<name> model with the same columns. -#}
{% set checks = ['conversion_gap', 'match_quality', 'email_coverage', 'field_coverage', 'deduplication', 'timeliness', 'pii_hashing'] %}

with

checks as (

    {% for check in checks %}
    select
        platform,
        check_name,
        window_start,
        window_end,
        cast(metric_value as double) as metric_value,
        cast(threshold as double) as threshold,
        status,
        summary
    from {{ ref('int_check__' ~ check) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from checks
