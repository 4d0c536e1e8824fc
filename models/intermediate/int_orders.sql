{#- The backend orders the audit joins events to, narrow, with where each changed order stood
    before: an order re-exported with another date moves between days, and both days change.
    Incremental: the batch is the orders of loads since the last build (new, or re-exported
    with a new status, date or customer details). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    partition_by=keyed_partition_by('created_date'),
    unique_key='order_id',
    on_schema_change='sync_all_columns',
) }}

with

changed as (

    select * from {{ ref('stg_backend__orders') }}
    {%- if is_incremental() %}
    where {{ loaded_since_last_build() }}
    {%- endif %}

)

select
    changed.order_id,
    changed.created_at,
    changed.created_date,
    changed.purchase_path,
    changed.is_counted_purchase,
    changed.email_sha256,
    changed.phone_sha256,
    changed.phone_e164_sha256,
    {% if is_incremental() -%}
    before.created_date
    {%- else -%}
        cast(null as date)
    {%- endif %} as previous_created_date,
    changed._dlt_load_id,
    {{ audit_run_at() }} as _audited_at
from changed
{%- if is_incremental() %}
left join (
    select order_id, created_date from {{ this }}
    where order_id in (select order_id from changed)
) as before
    on changed.order_id = before.order_id
{%- endif %}
