{#- One row per day, the calendar MetricFlow joins to for metric_time (cumulative metrics,
    offsets, filling days without rows). 2020 to 2035 covers any audit window; 5,800 rows. -#}
{{ config(materialized='table', schema='semantic') }}

with

days as (

    {{ dbt.date_spine('day', "cast('2020-01-01' as date)", "cast('2036-01-01' as date)") }}

)

select cast(date_day as date) as date_day
from days
