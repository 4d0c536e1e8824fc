"""The configured sources as runs: `plan` turns the `sources:` settings into dlt resources,
resolving every secret (dlt secrets: env vars or .dlt/secrets.toml) and checking the
database's columns before anything is loaded."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from dlt.extract import DltResource

from pipelines.rejects import Tally
from pipelines.sources import meta_graph, shopify, sql_orders, stripe
from pipelines.sources.http import Refusal, RetryPredicate, optional_secret, require_secret
from signal_audit_core.config import Config, HttpConfig


@dataclass
class SourceRun:
    """One source system's resources, loaded in one dlt run, and how to explain its failures."""

    system: str  # names the source in messages: shopify, stripe, sql_orders, meta_graph
    resources: list[DltResource]
    tallies: dict[str, Tally]  # what LoadReport.counts reports, by raw table or source
    locations: dict[str, str]  # the address read, for LoadReport.files (never with a secret)
    secrets: tuple[str | None, ...] = ()
    refusal: Refusal | None = None
    retryable: RetryPredicate | None = None
    attempts: int = 1


def plan(config: Config, now: Callable[[], dt.datetime]) -> list[SourceRun]:
    sources = config.sources
    runs: list[SourceRun] = []
    if sources.sql is not None:
        tally = Tally()
        runs.append(SourceRun(
            system=sql_orders.NAME,
            resources=[sql_orders.sql_orders(sources.sql, config.orders, tally)],
            tallies={sql_orders.NAME: tally},
            locations={sql_orders.NAME: sql_orders.table_address(sources.sql)},
            secrets=(optional_secret("sql"),),
        ))
    if sources.shopify is not None:
        token = require_secret("shopify", "access token")
        tally = Tally()
        runs.append(SourceRun(
            system="shopify",
            resources=[shopify.shopify_orders(sources.shopify, config.orders, sources.http, token, tally)],
            tallies={shopify.NAME: tally},
            locations={shopify.NAME: shopify.endpoint(sources.shopify)},
            secrets=(token,),
            refusal=shopify.refusal,
            attempts=_attempts(sources.http),
        ))
    if sources.stripe is not None:
        key = require_secret("stripe", "API key")
        tally = Tally()
        runs.append(SourceRun(
            system="stripe",
            resources=[stripe.stripe_orders(sources.stripe, config.orders, sources.http, key, tally)],
            tallies={stripe.NAME: tally},
            locations={stripe.NAME: stripe.endpoint(sources.stripe)},
            secrets=(key,),
            refusal=stripe.refusal,
            attempts=_attempts(sources.http),
        ))
    meta = sources.meta_graph
    if meta is not None and (meta.dataset_quality or meta.pixel_stats):
        token = require_secret("meta_graph", "access token")
        graph = f"{meta.base_url}/{meta.api_version}"
        locations = {"meta_dataset_quality": f"{graph}/dataset_quality",
                     "meta_pixel_stats": f"{graph}/<pixel_id>/stats"}
        read = [name for name, wanted in (("meta_dataset_quality", meta.dataset_quality),
                                          ("meta_pixel_stats", meta.pixel_stats)) if wanted]
        tallies = {name: Tally() for name in locations}
        runs.append(SourceRun(
            system="meta_graph",
            resources=meta_graph.meta_graph_resources(meta, sources.http, token, now(), tallies),
            tallies={name: tallies[name] for name in read},
            locations={name: locations[name] for name in read},
            secrets=(token,),
            refusal=meta_graph.refusal,
            retryable=meta_graph.retryable,
            attempts=_attempts(sources.http),
        ))
    return runs


def _attempts(http: HttpConfig) -> int:
    from dlt.common.configuration import resolve_configuration
    from dlt.common.configuration.specs import RuntimeConfiguration

    return http.max_attempts or resolve_configuration(RuntimeConfiguration()).request_max_attempts
