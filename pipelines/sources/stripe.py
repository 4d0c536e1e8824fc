"""Orders from Stripe charges (`GET /v1/charges`), with dlt's rest_api.

Pagination is Stripe's: `starting_after=<id of the last charge on the page>` while `has_more`
is true. The incremental cursor is `created`, sent as `created[gte]`; because refunds do not
change `created`, each run re-reads the charges created in the `refund_lookback_days` before
the cursor (dlt's incremental `lag`), so a refund within that window updates the stored row.
The secret key is sent as a bearer token.

The field mapping is `charge_values` below; docs/sources.md argues each choice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import dlt
import requests
from dlt.extract import DltResource
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import BasePaginator
from dlt.sources.rest_api import rest_api_resources
from requests import Request, Response

from pipelines.rejects import Tally
from pipelines.sources.http import retrying_session
from pipelines.sources.orders_sink import OrdersSink, as_object, mapped, record_id
from signal_audit_core.config import HttpConfig, OrdersConfig, StripeConfig, secret_env_var

NAME = "stripe_orders"
SECRET = "stripe"

# Stripe's currencies whose amounts are not in hundredths (stripe.com/docs/currencies).
ZERO_DECIMAL = frozenset({
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
})
THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})
CARD_PRESENT = frozenset({"card_present", "interac_present"})


class StartingAfterPaginator(BasePaginator):
    """Stripe's list pagination: the next page starts after the last object of this one."""

    def __init__(self) -> None:
        super().__init__()
        self._last_id: str | None = None

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        body = response.json()
        # the last charge with an id (a page may end in a record that is no charge)
        self._last_id = next((i for i in map(record_id, reversed(data or [])) if isinstance(i, str)), None)
        self._has_next_page = isinstance(body, dict) and bool(body.get("has_more")) and self._last_id is not None

    def update_request(self, request: Request) -> None:
        request.params = {**(request.params or {}), "starting_after": self._last_id}


def endpoint(config: StripeConfig) -> str:
    return f"{config.base_url}/v1/{config.object}"


def stripe_orders(
    config: StripeConfig, orders_config: OrdersConfig, http: HttpConfig, api_key: str, tally: Tally
) -> DltResource:
    initial = 0
    if config.created_gte:
        initial = int(dt.datetime.fromisoformat(config.created_gte).timestamp())
    incremental: dict[str, Any] = {
        "start_param": "created[gte]",
        "cursor_path": "created",
        "initial_value": initial,
        # a charge without a readable `created` is rejected by the sink, not by dlt
        "on_cursor_value_missing": "include",
    }
    if config.refund_lookback_days:
        incremental["lag"] = config.refund_lookback_days * 86_400  # seconds, like the cursor
    (reader,) = rest_api_resources({
        "client": {
            "base_url": f"{config.base_url}/v1/",
            "auth": BearerTokenAuth(token=api_key),
            "session": retrying_session(SECRET, http),
        },
        "resources": [{
            "name": f"{NAME}_read",
            "endpoint": {
                "path": config.object,
                "params": {"limit": config.page_size},
                "data_selector": "data",
                "paginator": StartingAfterPaginator(),
                "incremental": incremental,
            },
            "primary_key": "id",
        }],
    })
    latest = int(dt.datetime.now(dt.UTC).timestamp()) + 86_400
    reader.add_map(lambda charge: _created_as_cursor(charge, latest), insert_at=1)  # before dlt's incremental
    record_url = endpoint(config)
    sink = OrdersSink(orders_config, tally)

    @dlt.transformer(name=NAME)
    def to_orders(page: list[dict[str, Any]]) -> Iterator[Any]:
        yield from sink.chunks((f"{record_url}/{record_id(charge)}",
                                mapped(charge, lambda c: charge_values(c, config))) for charge in page)

    return reader | to_orders


def _created_as_cursor(charge: Any, latest: int) -> Any:
    """The charge, its `created` a cursor only when it is seconds since 1970 up to `latest` (a
    day from now): a bogus time must not move the cursor past every later charge. The charge
    itself goes on to the sink, which judges its created_at."""
    charge = as_object(charge)
    value = charge.get("created")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= latest:
        charge = {**charge, "created": None, "_created": value}
    return charge


def refusal(response: requests.Response) -> str | None:
    if response.status_code == 401:
        return f"the API key was refused (HTTP 401) — check {secret_env_var(SECRET)}"
    if response.status_code == 403:
        return ("the API key may not read charges (HTTP 403): a restricted key needs read access "
                "to Charges")
    if response.status_code == 404:
        return "no such endpoint (HTTP 404): check sources.orders.stripe.base_url"
    return None


def charge_values(charge: Mapping[str, Any], config: StripeConfig) -> dict[str, Any]:
    """A Stripe charge as contract columns, PII still in plaintext (hashed by the sink)."""
    billing = _object(charge.get("billing_details"))
    address = _object(billing.get("address"))
    currency = str(charge.get("currency") or "").upper() or None
    name = str(billing.get("name") or "").strip()
    first_name, _, last_name = name.partition(" ")
    method = _object(charge.get("payment_method_details")).get("type")
    return {
        "order_id": _order_id(charge, config.order_id),
        "created_at": _created(charge.get("_created", charge.get("created"))),
        "status": charge_status(charge),
        "total_value": _amount(charge.get("amount"), currency),
        "currency": currency,
        "sales_channel": "pos" if method in CARD_PRESENT else "web",
        "checkout_type": "account" if charge.get("customer") else "guest",
        "customer_id": _customer_id(charge.get("customer")),
        "email": billing.get("email") or charge.get("receipt_email"),
        "phone": billing.get("phone"),
        "first_name": first_name or None,
        "last_name": last_name.strip() or None,
        "city": address.get("city"),
        "state": address.get("state"),
        "zip": address.get("postal_code"),
        "country": address.get("country"),
        "marketing_consent": None,
        "is_test": not charge.get("livemode", True),
    }


def charge_status(charge: Mapping[str, Any]) -> str | None:
    status = charge.get("status")
    if status != "succeeded":
        return status
    if charge.get("refunded"):
        return "refunded"
    refunded = charge.get("amount_refunded")
    if isinstance(refunded, int | float) and not isinstance(refunded, bool) and refunded > 0:
        return "partially_refunded"
    if charge.get("captured") is False:
        return "authorized"
    return "paid"


def _order_id(charge: Mapping[str, Any], field: str) -> Any:
    if field.startswith("metadata."):
        return _object(charge.get("metadata")).get(field.removeprefix("metadata."))
    value = charge.get(field)
    return value.get("id") if isinstance(value, dict) else value  # an expanded object


def _customer_id(customer: Any) -> Any:
    return customer.get("id") if isinstance(customer, dict) else customer


def _object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _created(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return dt.datetime.fromtimestamp(value, dt.UTC)
        except (OverflowError, OSError, ValueError):  # beyond the years 1-9999: rejected as such
            return value
    return value


def _amount(value: Any, currency: str | None) -> Any:
    if not isinstance(value, int) or isinstance(value, bool):
        return value  # the sink rejects what is not a number
    exponent = 0 if currency in ZERO_DECIMAL else 3 if currency in THREE_DECIMAL else 2
    return float(Decimal(value).scaleb(-exponent))
