"""Orders from Shopify's Admin REST API (`GET /admin/api/<version>/orders.json`), with dlt's rest_api.

Cursor pagination follows the `Link` header's `rel="next"` URL (its `page_info` carries the
filters, so later pages send nothing else); the incremental cursor is `updated_at`, sent as
`updated_at_min`, so refunds, cancellations and edits come back and replace the stored row.
`status=any` is sent because the endpoint returns only open orders without it. The token goes
in the `X-Shopify-Access-Token` header.

The field mapping is `order_values` below; docs/sources.md argues each choice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

import dlt
import requests
from dlt.extract import DltResource
from dlt.sources.helpers.rest_client.auth import APIKeyAuth
from dlt.sources.helpers.rest_client.paginators import HeaderLinkPaginator
from dlt.sources.rest_api import rest_api_resources

from pipelines.rejects import Tally
from pipelines.sources.http import retrying_session
from pipelines.sources.orders_sink import OrdersSink, as_object, mapped, record_id
from signal_audit_core.config import HttpConfig, OrdersConfig, ShopifyConfig, secret_env_var

NAME = "shopify_orders"
SECRET = "shopify"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

# Shopify `source_name` -> contract sales_channel. Other values (numeric ids of sales channel
# apps, shopify_draft_order, subscription apps) are `other`: the setting can say more.
DEFAULT_CHANNELS = {"web": "web", "pos": "pos", "iphone": "app", "android": "app"}


def endpoint(config: ShopifyConfig) -> str:
    return f"{config.shop_url}/admin/api/{config.api_version}/orders.json"


def shopify_orders(
    config: ShopifyConfig, orders_config: OrdersConfig, http: HttpConfig, token: str, tally: Tally
) -> DltResource:
    initial = dt.datetime.fromisoformat(config.updated_at_min) if config.updated_at_min else EPOCH
    (reader,) = rest_api_resources({
        "client": {
            "base_url": f"{config.shop_url}/admin/api/{config.api_version}/",
            "auth": APIKeyAuth(name="X-Shopify-Access-Token", api_key=token, location="header"),
            "paginator": HeaderLinkPaginator(),
            "session": retrying_session(SECRET, http),
        },
        "resources": [{
            "name": f"{NAME}_read",
            "endpoint": {
                "path": "orders.json",
                "params": {"status": "any", "limit": config.page_size},
                "data_selector": "orders",
                "incremental": {
                    "start_param": "updated_at_min",
                    "cursor_path": "updated_at",
                    "initial_value": initial,
                    "convert": _iso,
                    # an order without a readable updated_at still loads (or is rejected) below
                    "on_cursor_value_missing": "include",
                },
            },
            "primary_key": "id",
        }],
    })
    # Shopify writes times in the shop's zone, whose offset changes with daylight saving:
    # compared as text, `...T01:30-04:00` would sort before `...T01:00-05:00`. The cursor is
    # compared as a timestamp instead, converted before dlt's incremental step sees it.
    latest = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    reader.add_map(lambda order: _updated_at_as_cursor(order, latest), insert_at=1)
    record_url = endpoint(config).removesuffix(".json")
    sink = OrdersSink(orders_config, tally)

    @dlt.transformer(name=NAME)
    def to_orders(page: list[dict[str, Any]]) -> Iterator[Any]:
        yield from sink.chunks((f"{record_url}/{record_id(order)}.json",
                                mapped(order, lambda o: order_values(o, config))) for order in page)

    return reader | to_orders


def refusal(response: requests.Response) -> str | None:
    if response.status_code == 401:
        return f"the access token was refused (HTTP 401) — check {secret_env_var(SECRET)}"
    if response.status_code == 403:
        return ("the access token may not read orders (HTTP 403): the app needs the read_orders scope "
                "(and read_all_orders for orders older than 60 days)")
    if response.status_code == 402:
        return "the shop is frozen or unpaid (HTTP 402 Payment Required)"
    if response.status_code == 404:
        return "no such endpoint (HTTP 404): check sources.orders.shopify.shop_url and api_version"
    return None


def order_values(order: Mapping[str, Any], config: ShopifyConfig) -> dict[str, Any]:
    """A Shopify order as contract columns, PII still in plaintext (hashed by the sink)."""
    customer = _object(order.get("customer"))
    billing = _object(order.get("billing_address"))
    shipping = _object(order.get("shipping_address"))
    address = billing or shipping

    def first(*values: Any) -> Any:
        return next((v for v in values if v not in (None, "")), None)

    consent = order.get("buyer_accepts_marketing")
    if consent is None:
        state = _object(customer.get("email_marketing_consent")).get("state")
        consent = None if state is None else state == "subscribed"
    source_name = str(order.get("source_name") or "web").lower()
    channels = {**DEFAULT_CHANNELS, **config.sales_channels}
    has_account = bool(customer) and customer.get("state") == "enabled"
    return {
        "order_id": order.get(config.order_id),
        "created_at": order.get("created_at"),
        "status": order.get("financial_status"),
        "total_value": order.get("total_price"),
        "currency": order.get("currency"),
        "sales_channel": channels.get(source_name, "other"),
        "checkout_type": "account" if has_account else "guest",
        "customer_id": customer.get("id"),
        "email": first(order.get("email"), order.get("contact_email"), customer.get("email")),
        "phone": first(order.get("phone"), billing.get("phone"), shipping.get("phone"), customer.get("phone")),
        "first_name": first(address.get("first_name"), customer.get("first_name")),
        "last_name": first(address.get("last_name"), customer.get("last_name")),
        "city": address.get("city"),
        "state": first(address.get("province_code"), address.get("province")),
        "zip": address.get("zip"),
        "country": first(address.get("country_code"), address.get("country")),
        "marketing_consent": consent,
        "is_test": bool(order.get("test")),
    }


def _object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _updated_at_as_cursor(order: Any, latest: dt.datetime) -> Any:
    """`updated_at` as an aware timestamp, or None when it is no time up to `latest` (a day
    from now): dlt's incremental step then lets the order pass without moving the cursor (a
    bogus `9999-12-31` would skip every later change), and the sink judges the order."""
    order = as_object(order)
    value = order.get("updated_at")
    try:
        stamp = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
        if not (isinstance(stamp, dt.datetime) and stamp.tzinfo is not None and EPOCH <= stamp <= latest):
            stamp = None
    except (ValueError, OverflowError):  # not ISO 8601; beyond the years 1-9999 in UTC
        stamp = None
    order["updated_at"] = stamp
    return order


def _iso(value: Any) -> str:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.isoformat()
    return str(value)
