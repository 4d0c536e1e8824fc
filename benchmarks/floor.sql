-- The floor: the window's conversion gap and dedup figures computed by DuckDB alone, straight
-- from the raw files, with none of the framework (no dlt, no dbt, no validation, no PII
-- handling). What the full audit is measured against. Paths come from the benchmark script as
-- the SQL variables orders_glob, log_glob and reports_glob.
with

orders as (
    select order_id, cast(created_at as timestamptz) as created_at, status, is_test
    from read_csv(getvariable('orders_glob'), header = true, all_varchar = true,
                  columns = {'order_id': 'varchar', 'created_at': 'varchar', 'status': 'varchar',
                             'total_value': 'varchar', 'currency': 'varchar', 'sales_channel': 'varchar',
                             'checkout_type': 'varchar', 'customer_id': 'varchar', 'email': 'varchar',
                             'phone': 'varchar', 'first_name': 'varchar', 'last_name': 'varchar',
                             'city': 'varchar', 'state': 'varchar', 'zip': 'varchar', 'country': 'varchar',
                             'marketing_consent': 'varchar', 'is_test': 'varchar'})
),

bounds as (
    select max(cast(created_at as date)) as window_end, max(cast(created_at as date)) - 29 as window_start
    from orders
),

counted as (
    select order_id
    from orders, bounds
    where status in ('paid', 'fulfilled', 'refunded', 'partially_refunded') and is_test <> 'true'
        and cast(created_at as date) between window_start and window_end
),

log as (
    select platform, channel, http_status, response, unnest(json_extract(request, '$.data[*]')) as event
    from read_json(getvariable('log_glob'), format = 'newline_delimited',
                   columns = {'platform': 'varchar', 'channel': 'varchar', 'sent_at': 'varchar',
                              'http_status': 'integer', 'request': 'json', 'response': 'json'})
),

events as (
    select
        platform, channel,
        coalesce(http_status between 200 and 299, true)
            and response->>'$.error' is null
            and coalesce(response->>'$.code', '0') = '0'
            and coalesce(response->>'$.status', '') <> 'INVALID' as accepted,
        coalesce(event->>'$.custom_data.order_id', event->>'$.properties.order_id', event->>'$.event_id') as order_id,
        coalesce(event->>'$.event_id', event->>'$.client_dedup_id') as event_id,
        lower(coalesce(event->>'$.event_name', event->>'$.event')) in ('purchase', 'completepayment') as is_purchase
    from log
),

purchases as (
    select e.platform, e.channel, e.accepted, e.order_id, e.event_id
    from events as e
    inner join counted using (order_id)
    where e.is_purchase
),

matching as (
    select distinct b.platform, b.order_id
    from purchases as b
    inner join purchases as s using (platform, order_id, event_id)
    where b.channel = 'browser' and s.channel = 'server'
),

per_order as (
    select
        platform, order_id,
        bool_or(channel = 'server') as sent,
        bool_or(channel = 'server' and accepted) as accepted,
        bool_or(channel = 'browser') as browser,
        bool_or(matching.order_id is not null) as matching
    from purchases
    left join matching using (platform, order_id)
    group by all
),

reported as (
    select platform, sum(events_received - coalesce(events_deduplicated, 0)) as reported
    from read_csv(getvariable('reports_glob'), header = true), bounds
    where cast(date as date) between window_start and window_end
        and lower(event_name) in ('purchase', 'completepayment')
    group by all
)

select
    p.platform,
    (select count(*) from counted) as backend_purchases,
    count(*) filter (where sent) as orders_sent_by_server,
    count(*) filter (where accepted) as orders_accepted,
    r.reported as platform_reported_purchases,
    round(((select count(*) from counted) - r.reported) / (select count(*) from counted), 4) as gap_pct,
    count(*) filter (where sent and browser) as orders_with_both,
    count(*) filter (where sent and browser and matching) as matching_event_id_orders
from per_order as p
left join reported as r using (platform)
group by p.platform, r.reported
order by p.platform;
