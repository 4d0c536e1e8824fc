{#- The conversion gap's first step by purchase path: which kinds of orders the server
    sends and the platform accepts (web account, web guest, app, POS, ...). Platforms report
    no path, so there is no platform count here. -#}
{{ config(
    materialized='incremental',
    incremental_strategy=daily_mart_strategy(),
    partition_by=daily_mart_partition_by(),
    on_schema_change='fail',
    pre_hook="{{ delete_changed_days('order') }}",
) }}
-- depends_on: {{ ref('int_changed_days') }}

select
    created_date as report_date,
    platform,
    cast(purchase_path as {{ dbt.type_string() }}) as purchase_path,
    cast(count(*) as {{ dbt.type_bigint() }}) as backend_purchases,
    cast(sum(case when is_sent_by_server then 1 else 0 end) as {{ dbt.type_bigint() }}) as orders_sent_by_server,
    cast(sum(case when is_accepted then 1 else 0 end) as {{ dbt.type_bigint() }}) as orders_accepted,
    {{ ratio('sum(case when is_sent_by_server then 1 else 0 end)', 'count(*)') }} as capture_rate,
    {{ ratio('sum(case when is_accepted then 1 else 0 end)', 'count(*)') }} as acceptance_rate
from {{ ref('int_order_deliveries') }}
where is_counted_purchase and {{ on_changed_days('created_date', 'order') }}
group by created_date, platform, purchase_path
