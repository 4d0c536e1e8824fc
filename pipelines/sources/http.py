"""Faults of the API sources handled like a production loader, in one place.

Every API source gets its requests session from `retrying_session`: 429 and 5xx answers and
dropped connections are retried with exponential backoff, honouring `Retry-After` (seconds,
fractions such as Shopify's `2.0`, or an HTTP date); a source may add its own retryable
answers (Meta's rate limits come as HTTP 400/403 with error code 4 or 80004). What is still
failing after the last attempt becomes one `SourceError` whose message names the source and
says what to do, with the secret scrubbed from it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from email.utils import mktime_tz, parsedate_tz
from typing import Any

import dlt
import requests
from dlt.common.configuration import resolve_configuration
from dlt.common.configuration.specs import RuntimeConfiguration
from dlt.sources.helpers.requests.retry import (
    DEFAULT_RETRY_EXCEPTIONS,
    retry_if_predicate,
    retry_if_status,
)
from dlt.sources.helpers.requests.session import Session
from tenacity import RetryCallState, Retrying, retry_any, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_base

from pipelines.files import InputError
from signal_audit_core.config import SECRETS, HttpConfig, secret_env_var

log = logging.getLogger(__name__)

RETRY_STATUS = (429, *range(500, 600))
# (response or None, exception or None) -> retry?
RetryPredicate = Callable[[requests.Response | None, BaseException | None], bool]
# a response the source recognises as a refused credential -> the sentence saying so, else None
Refusal = Callable[[requests.Response], str | None]


class SourceError(Exception):
    """A database or API source could not be read; the message names the source."""


class SourceRefused(SourceError, InputError):
    """The source refused our credentials or request: a setting to fix, not a fault to wait out."""


class SourceUnavailable(SourceError):
    """The source kept failing (5xx, rate limits, network) after every retry."""


def require_secret(source: str, what: str) -> str:
    """The source's secret from dlt's secrets (env var or .dlt/secrets.toml), or a clear error."""
    value = dlt.secrets.get(SECRETS[source])
    if value is None or not str(value).strip():
        raise SourceRefused(
            f"{source}: no {what} configured: set {secret_env_var(source)} or put "
            f"`{SECRETS[source].rsplit('.', 1)[-1]}` under [{SECRETS[source].rsplit('.', 1)[0]}] "
            "in .dlt/secrets.toml"
        )
    return str(value).strip()


def optional_secret(source: str) -> str | None:
    value = dlt.secrets.get(SECRETS[source])
    return str(value) if value is not None and str(value) else None


class _WaitRetryAfter(wait_base):
    """Exponential backoff (factor * 2^(attempt-1) s), or the server's Retry-After; both capped."""

    def __init__(self, factor: float, max_delay: float) -> None:
        self.factor = factor
        self.max_delay = max_delay

    def __call__(self, retry_state: RetryCallState) -> float:
        response = _response_of(retry_state)
        header = response.headers.get("Retry-After") if response is not None else None
        seconds = _retry_after_seconds(header) if header else None
        if seconds is None:
            seconds = self.factor * 2 ** (retry_state.attempt_number - 1)
        return max(0.0, min(self.max_delay, seconds))


def _retry_after_seconds(header: str) -> float | None:
    try:
        return float(header.strip())
    except ValueError:
        parsed = parsedate_tz(header)
        return None if parsed is None else mktime_tz(parsed) - time.time()


def _response_of(retry_state: RetryCallState) -> requests.Response | None:
    outcome = retry_state.outcome
    if outcome is None:
        return None
    if outcome.failed:
        exc = outcome.exception()
        return getattr(exc, "response", None) if isinstance(exc, requests.RequestException) else None
    result = outcome.result()
    return result if isinstance(result, requests.Response) else None


def retrying_session(
    source: str, http: HttpConfig, retryable: RetryPredicate | None = None
) -> requests.Session:
    """A session for dlt's RESTClient with this project's retry policy.

    Unset settings fall back to dlt's runtime configuration (`RUNTIME__REQUEST_MAX_ATTEMPTS`,
    `RUNTIME__REQUEST_BACKOFF_FACTOR`, `RUNTIME__REQUEST_MAX_RETRY_DELAY`,
    `RUNTIME__REQUEST_TIMEOUT`), whose defaults are 5 attempts, factor 1, 300 s, 60 s.
    """
    runtime = resolve_configuration(RuntimeConfiguration())
    attempts = http.max_attempts or runtime.request_max_attempts
    factor = runtime.request_backoff_factor if http.backoff_factor is None else http.backoff_factor
    max_delay = runtime.request_max_retry_delay if http.max_retry_delay is None else http.max_retry_delay
    timeout = http.timeout or runtime.request_timeout

    conditions: list[Any] = [retry_if_status(RETRY_STATUS), retry_if_exception_type(DEFAULT_RETRY_EXCEPTIONS)]
    if retryable is not None:
        conditions.append(retry_if_predicate(retryable))

    def note(retry_state: RetryCallState) -> None:
        response = _response_of(retry_state)
        if response is not None:
            why = f"HTTP {response.status_code}"
        else:
            exc = retry_state.outcome.exception() if retry_state.outcome else None
            why = type(exc).__name__ if exc else "no answer"
        wait = retry_state.next_action.sleep if retry_state.next_action else 0
        log.warning("%s: %s, retrying in %.1f s (attempt %d of %d)",
                    source, why, wait, retry_state.attempt_number + 1, attempts)

    session = Session(timeout=timeout, raise_for_status=False)
    retrying = Retrying(
        wait=_WaitRetryAfter(factor, max_delay),
        retry=retry_any(*conditions),
        stop=stop_after_attempt(attempts),
        reraise=True,
        retry_error_callback=lambda state: state.outcome.result(),  # the last answer, as is
        before_sleep=note,
    )
    session.send = retrying.wraps(session.send)  # type: ignore[method-assign]
    session.max_attempts = attempts  # type: ignore[attr-defined]  # for the error message
    return session


def explain(
    exc: BaseException,
    source: str,
    secrets: Iterable[str | None],
    refusal: Refusal,
    attempts: int,
    retryable: RetryPredicate | None = None,
) -> SourceError | None:
    """The SourceError a user should see for a failed extraction, or None if it is no HTTP fault.

    dlt wraps what a resource raised several times over; the HTTP error or network failure is
    found in that chain. The message never carries a secret.
    """
    cause = _find(exc, (requests.RequestException,))
    if cause is None:
        return None
    response = getattr(cause, "response", None)
    if isinstance(cause, requests.exceptions.InvalidJSONError):  # an answer, but not JSON
        error: SourceError = SourceUnavailable(
            f"{source}: the server's answer was not valid JSON; nothing from this run was loaded, "
            "the next run starts where the last good one ended")
    elif response is not None:
        refused = refusal(response)
        if refused is not None:
            error = SourceRefused(f"{source}: {refused}")
        elif response.status_code == 429 or (retryable is not None and retryable(response, None)):
            error = SourceUnavailable(
                f"{source}: still rate limited (HTTP {response.status_code}) after {attempts} attempts; "
                "run again later, or allow more attempts (sources.http.max_attempts)"
            )
        elif response.status_code >= 500:
            error = SourceUnavailable(
                f"{source}: the server kept failing (HTTP {response.status_code}) after {attempts} attempts; "
                "nothing from this run was loaded, the next run starts where the last good one ended"
            )
        else:
            error = SourceRefused(
                f"{source}: the request was refused (HTTP {response.status_code}): {_body_message(response)}"
            )
    else:
        error = SourceUnavailable(
            f"{source}: no answer from the server after {attempts} attempts ({type(cause).__name__}); "
            "nothing from this run was loaded, the next run starts where the last good one ended"
        )
    return type(error)(scrub(str(error), secrets))


def _body_message(response: requests.Response) -> str:
    """The error text a JSON API put in its answer, shortened; the status reason otherwise."""
    try:
        body = response.json()
    except ValueError:
        return (response.reason or "").strip() or "no details"
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        text = error.get("message") or error.get("type")
    elif isinstance(body, dict) and body.get("errors"):
        text = body["errors"]
    else:
        text = error
    text = str(text or response.reason or "no details")
    return text if len(text) <= 300 else text[:300] + "..."


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _find(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> Any:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kinds):
            return current
        seen.add(id(current))
        current = getattr(current, "exception", None) or current.__cause__ or current.__context__
    return None
