{#- The days whose figures changed, appended by each run that found some: `order` days (an
    order's day: the gap, by-path and dedup marts) and `event` days (an event's day: match
    quality, key and field coverage, latency). An order day changes when an order of that day
    is loaded or moved off it, or when its purchase events change; an event day when an event
    of that day arrives or its tie to an order changes; both when a platform report or a Meta
    quality snapshot for that day is loaded. Each daily mart rebuilds the days appended since
    its own last build, and only those. -#}
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='sync_all_columns') }}

with

-- both kinds of day: what a platform says it counted feeds both kinds of marts
day_kinds as (

    select 'order' as day_kind
    union all
    select 'event' as day_kind

),

changes as (

    select
        created_date as report_date,
        'order' as day_kind,
        cast(null as {{ dbt.type_string() }}) as _dlt_load_id
    from {{ ref('int_order_deliveries') }}
    {%- if is_incremental() %}
    where {{ changed_since_last_build() }}
    {%- endif %}

    union all

    select
        previous_created_date as report_date,
        'order' as day_kind,
        null as _dlt_load_id
    from {{ ref('int_order_deliveries') }}
    where previous_created_date is not null
    {%- if is_incremental() %}
        and {{ changed_since_last_build() }}
    {%- endif %}

    union all

    select
        event_date as report_date,
        'event' as day_kind,
        null as _dlt_load_id
    from {{ ref('int_event_orders') }}
    {%- if is_incremental() %}
    where {{ changed_since_last_build() }}
    {%- endif %}

    union all

    -- a platform report's day is both an order day and an event day
    select
        reports.report_date,
        day_kinds.day_kind,
        reports._dlt_load_id
    from {{ ref('stg_platform_reports__daily') }} as reports
    cross join day_kinds
    {%- if is_incremental() %}
    where {{ loaded_since_last_build('reports._dlt_load_id') }}
    {%- endif %}

    union all

    select
        snapshots.report_date,
        'event' as day_kind,
        snapshots._dlt_load_id
    from {{ ref('stg_meta__dataset_quality') }} as snapshots
    {%- if is_incremental() %}
    where {{ loaded_since_last_build('snapshots._dlt_load_id') }}
    {%- endif %}

)

select
    report_date,
    day_kind,
    -- the newest load of platform data seen, so the next run reads only later ones
    max(_dlt_load_id) as _dlt_load_id,
    {{ audit_run_at() }} as _audited_at
from changes
where report_date is not null
group by report_date, day_kind
