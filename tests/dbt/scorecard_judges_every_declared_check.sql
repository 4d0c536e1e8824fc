{#- The scorecard judges exactly the checks seeds/checks.csv declares, for every audited
    platform: a check judged but not declared (a check__ model in rpt_signal_scorecard's list
    without a seed row), or declared but not judged (a seed row whose model is not in the
    list), fails the build with its name, so no check passes or vanishes silently. -#}
with

declared as (

    select platforms.platform, checks.check_name
    from ({{ audited_platforms() }}) as platforms
    cross join {{ ref('checks') }} as checks

),

judged as (

    select platform, check_name
    from {{ ref('rpt_signal_scorecard') }}

)

select
    coalesce(declared.platform, judged.platform) as platform,
    coalesce(declared.check_name, judged.check_name) as check_name,
    case
        when judged.check_name is null then 'declared in seeds/checks.csv but not judged: add its model to rpt_signal_scorecard'
        else 'judged but not declared: add a row to seeds/checks.csv'
    end as problem
from declared
full outer join judged
    on declared.platform = judged.platform
    and declared.check_name = judged.check_name
where declared.check_name is null or judged.check_name is null
