"""The demo shop at scale: a year of a mid-size shop, generated inside DuckDB.

The regular generator decides order by order in Python, which keeps every decision for the
known-answer tests but takes minutes for a million orders. This one writes the same input
formats (orders CSV, native-payload delivery log, platform report) with set-based SQL: every
random draw is a hash of (seed, order, purpose), so the output depends only on the arguments.
Files are split per day (`orders/day=YYYY-MM-DD/`, ...), so "one new day arrives" is one new
file per input, the way a daily export lands.

Defects follow the `broken` preset in spirit: Meta never sends guest checkouts and in-app
purchases server-side, TikTok's pixel and server ids disagree for 30% of orders, Snap rejects
15% of requests.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

PIXELS = {"meta": "918273645546372", "tiktok": "CQ8R4JJC77U3LVKB2M10", "snap": "6f1c2a9e-3b7d-4e58-a0c4-91d2e7b8f305"}


@dataclass(frozen=True)
class ScaleShop:
    days: int = 365
    orders_per_day: int = 2740  # a year of about 1,000,000 orders
    start_date: dt.date = dt.date(2025, 11, 1)
    seed: int = 7

    @property
    def end_date(self) -> dt.date:
        return self.start_date + dt.timedelta(days=self.days - 1)


def _u(purpose: str, seed: int) -> str:
    """A uniform draw in [0, 1) for order `i`, fixed by (seed, i, purpose)."""
    return f"(hash({seed}, i, '{purpose}') % 1000000) / 1000000.0"


def generate_scale_shop(
    shop: ScaleShop, out_dir: Path, first_day: int = 0, n_days: int | None = None, memory_limit: str = "1500MB",
    orders_per_chunk: int = 1_000_000,
) -> dict[str, float]:
    """Write days [first_day, first_day + n_days) of the shop (default: all its days) under
    `out_dir` as orders/, delivery_log/ and platform_reports/, one folder per day; return row
    counts and seconds. Order i belongs to day i // orders_per_day, so a later call for the
    next day adds that day's files and changes none of the earlier ones.

    Days are written in chunks of about `orders_per_chunk` orders: every figure of a day
    (its events, its report row) comes from that day's orders alone, so chunks change no
    row of the output, and memory stays that of one chunk whatever the length of the shop
    (10 million orders as flat as 1 million)."""
    n_days = shop.days - first_day if n_days is None else n_days
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    # an in-memory database spills to ./.tmp by default: keep it beside the output instead
    con.execute(f"set temp_directory = '{out_dir / '.duckdb_spill'}'")
    con.execute(f"set memory_limit = '{memory_limit}'")
    con.execute("set TimeZone = 'UTC'")  # strftime and date casts of timestamptz follow it
    con.execute("set preserve_insertion_order = false")
    days_per_chunk = max(1, orders_per_chunk // shop.orders_per_day)
    counts = {"orders": 0, "events": 0}
    for chunk_first in range(first_day, first_day + n_days, days_per_chunk):
        chunk_days = min(days_per_chunk, first_day + n_days - chunk_first)
        orders, events = _write_days(con, shop, out_dir, chunk_first * shop.orders_per_day,
                                     (chunk_first + chunk_days) * shop.orders_per_day)
        counts["orders"] += orders
        counts["events"] += events
    con.close()
    shutil.rmtree(out_dir / ".duckdb_spill", ignore_errors=True)
    return {**counts, "seconds": round(time.monotonic() - started, 1)}


def _write_days(con: duckdb.DuckDBPyConnection, shop: ScaleShop, out_dir: Path,
                first_order: int, end_order: int) -> tuple[int, int]:
    """Write the orders [first_order, end_order) (whole days) and their events and reports."""
    s = shop.seed
    start = shop.start_date.isoformat()

    con.execute(f"""
        create or replace temp table orders as
        with base as (
            select
                i,
                cast(1000000 + i as varchar) as order_id,
                timestamptz '{start} 00:00:00+00'
                    + to_days(cast(i // {shop.orders_per_day} as integer))
                    + to_seconds(cast(hash({s}, i, 'second') % 86400 as bigint)) as created_at,
                {_u('path', s)} as u_path,
                {_u('status', s)} as u_status,
                {_u('test', s)} as u_test
            from range({first_order}, {end_order}) as r(i)
        )
        select
            *,
            case when u_path < 0.45 then 'web_account' when u_path < 0.70 then 'web_guest'
                 when u_path < 0.90 then 'app' else 'pos' end as purchase_path,
            case when u_status < 0.02 then 'cancelled' when u_status < 0.04 then 'pending'
                 when u_status < 0.07 then 'refunded' when u_status < 0.50 then 'fulfilled'
                 else 'paid' end as status,
            u_test < 0.01 as is_test,
            round(10 + (hash({s}, i, 'value') % 25000) / 100.0, 2) as total_value,
            'customer' || i || '@example.com' as email,
            '+1650555' || lpad(cast(i % 10000 as varchar), 4, '0') as phone
        from base
    """)
    con.execute(f"""
        copy (
            select
                order_id, strftime(created_at, '%Y-%m-%dT%H:%M:%S+00:00') as created_at, status,
                total_value, 'USD' as currency,
                case purchase_path when 'app' then 'app' when 'pos' then 'pos' else 'web' end as sales_channel,
                case purchase_path when 'web_guest' then 'guest' when 'web_account' then 'account' end as checkout_type,
                case when purchase_path <> 'web_guest' then 'C' || i end as customer_id,
                email, phone, 'Alex' as first_name, 'Doe' as last_name, 'Chicago' as city, 'IL' as state,
                '60601' as zip, 'US' as country, true as marketing_consent, is_test,
                strftime(created_at, '%Y-%m-%d') as day
            from orders
        ) to '{out_dir / "orders"}' (format csv, header true, partition_by (day), overwrite_or_ignore true)
    """)

    # One row per event: server purchases of counted orders, browser purchases of web orders.
    con.execute(f"""
        create or replace temp table events as
        with counted as (
            select * from orders where status in ('paid', 'fulfilled', 'refunded') and not is_test
        ),
        server as (
            select
                p.platform, 'server' as channel, o.*, o.order_id as event_id,
                o.created_at + to_seconds(5 + cast(hash({s}, i, p.platform, 'delay') % 295 as bigint)) as sent_at,
                not (p.platform = 'snap' and {_u('reject', s)} < 0.15) as accepted
            from counted as o
            cross join (values ('meta'), ('tiktok'), ('snap')) as p(platform)
            where not (p.platform = 'meta' and o.purchase_path in ('web_guest', 'app'))
        ),
        browser as (
            select
                p.platform, 'browser' as channel, o.*,
                case when p.platform = 'tiktok' and {_u('mismatch', s)} < 0.30
                     then 'px-' || o.order_id else o.order_id end as event_id,
                o.created_at + to_seconds(1 + cast(hash({s}, i, 'pixel') % 5 as bigint)) as sent_at,
                true as accepted
            from orders as o
            cross join (values ('meta'), ('tiktok'), ('snap')) as p(platform)
            where o.purchase_path in ('web_account', 'web_guest') and {_u('blocker', s)} < 0.95
        )
        select * from server union all select * from browser
    """)
    con.execute(f"""
        copy (
            select
                platform, channel,
                case platform {" ".join(f"when '{p}' then '{px}'" for p, px in PIXELS.items())} end as pixel_id,
                strftime(sent_at, '%Y-%m-%dT%H:%M:%SZ') as sent_at,
                case when channel = 'server' then (case when accepted then 200 else 400 end) end as http_status,
                case platform
                    when 'tiktok' then json_object(
                        'event_source', 'web', 'event_source_id', '{PIXELS["tiktok"]}',
                        'data', json_array(json_object(
                            'event', 'CompletePayment', 'event_time', epoch(created_at)::bigint,
                            'event_id', event_id,
                            'user', json_object('email', sha256(email), 'phone', sha256(phone),
                                                'ip', '198.51.100.7', 'user_agent', 'Mozilla/5.0 (X11; Linux x86_64)'),
                            'page', json_object('url', 'https://shop.example/checkout/thank-you'),
                            'properties', json_object('value', total_value, 'currency', 'USD', 'order_id', order_id))))
                    else json_object('data', json_array(json_object(
                            'event_name', case platform when 'meta' then 'Purchase' else 'PURCHASE' end,
                            'event_time', epoch(created_at)::bigint, 'event_id', event_id,
                            'action_source', case platform when 'meta' then 'website' else 'WEB' end,
                            'event_source_url', 'https://shop.example/checkout/thank-you',
                            'user_data', json_object('em', json_array(sha256(email)),
                                                     'ph', json_array(sha256(substr(phone, 2))),
                                                     'client_ip_address', '198.51.100.7',
                                                     'client_user_agent', 'Mozilla/5.0 (X11; Linux x86_64)'),
                            'custom_data', json_object('value', total_value, 'currency', 'USD', 'order_id', order_id))))
                end as request,
                case
                    when channel = 'browser' then null
                    when platform = 'meta' then json_object('events_received', 1, 'messages', json_array())
                    when platform = 'tiktok' then json_object('code', 0, 'message', 'OK')
                    when accepted then json_object('status', 'VALID')
                    else json_object('status', 'INVALID', 'reason', 'rejected')
                end as response,
                strftime(created_at, '%Y-%m-%d') as day
            from events
        ) to '{out_dir / "delivery_log"}' (format json, compression gzip, partition_by (day), overwrite_or_ignore true)
    """)

    # What each platform counted: accepted server events and browser events by day; a
    # browser event whose id equals an accepted server event's is deduplicated.
    con.execute(f"""
        copy (
            with received as (
                select platform, cast(created_at as date) as report_date, count(*) as events_received
                from events where accepted group by all
            ),
            deduplicated as (
                select b.platform, cast(b.created_at as date) as report_date, count(*) as events_deduplicated
                from events as b
                inner join events as srv
                    on b.platform = srv.platform and b.order_id = srv.order_id and b.event_id = srv.event_id
                where b.channel = 'browser' and srv.channel = 'server' and srv.accepted
                group by all
            )
            select
                strftime(r.report_date, '%Y-%m-%d') as date, r.platform,
                case r.platform {" ".join(f"when '{p}' then '{px}'" for p, px in PIXELS.items())} end as pixel_id,
                case r.platform when 'meta' then 'Purchase' when 'tiktok' then 'CompletePayment' else 'PURCHASE' end
                    as event_name,
                r.events_received, coalesce(d.events_deduplicated, 0) as events_deduplicated,
                null as events_matched, null as match_quality_score,
                strftime(r.report_date, '%Y-%m-%d') as day
            from received as r
            left join deduplicated as d using (platform, report_date)
        ) to '{out_dir / "platform_reports"}' (format csv, header true, partition_by (day), overwrite_or_ignore true)
    """)
    orders = con.execute("select count(*) from orders").fetchone()[0]
    events = con.execute("select count(*) from events").fetchone()[0]
    con.execute("drop table orders")
    con.execute("drop table events")
    return orders, events


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Write a year-long demo shop at scale (DuckDB, set-based).")
    parser.add_argument("--out", required=True)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--orders-per-day", type=int, default=2740)
    parser.add_argument("--first-day", type=int, default=0, help="write only from this day on (0-based)")
    parser.add_argument("--n-days", type=int, help="how many days to write (default: to the end)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    shop = ScaleShop(days=args.days, orders_per_day=args.orders_per_day, seed=args.seed)
    print(generate_scale_shop(shop, Path(args.out), args.first_day, args.n_days))
