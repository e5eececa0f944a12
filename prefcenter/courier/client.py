"""A small Courier REST client for the preference endpoints, over one pooled httpx.Client."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import httpx

from .errors import (
    CourierError,
    CourierMalformedResponse,
    CourierNotFound,
    CourierRejected,
    CourierUnavailable,
)
from .models import PreferenceUpdate, Section, TopicPreference, parse_list
from .retries import RetryPolicy, retry_after_seconds

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.courier.com"
# A page view waits on these calls, so they are far shorter than the SDK's 60 s default.
DEFAULT_TIMEOUT = httpx.Timeout(5.0, connect=2.0)


def _segment(value: str) -> str:
    """Escape one path segment so ids with "/", "?", "#", "." or ".." stay one segment."""
    if value in (".", ".."):
        # Left as they are, URL normalisation would drop them and address another resource.
        return value.replace(".", "%2E")
    return quote(value, safe="")


def _tenant_query(tenant_id: str | None) -> dict[str, str]:
    return {"tenant_id": tenant_id} if tenant_id else {}


class CourierClient:
    """Courier's user-preference and catalog endpoints; thread-safe, one per process."""

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        max_concurrent_writes: int = 16,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._retry = retry or RetryPolicy()
        self._timeout = timeout
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )
        # Writes for one save run side by side; the pool bounds how many at once per process.
        self._writers = ThreadPoolExecutor(
            max_workers=max_concurrent_writes, thread_name_prefix="courier-write"
        )

    def close(self) -> None:
        """Release pooled connections and writer threads."""
        self._writers.shutdown(wait=True)
        self._http.close()

    # -- users' preferences ------------------------------------------------------------------

    def list_preferences(self, user_id: str, tenant_id: str | None = None) -> list[TopicPreference]:
        """Return the user's topic preferences (every topic, or only overrides: both occur)."""
        data = self._request(
            "GET", f"/users/{_segment(user_id)}/preferences", params=_tenant_query(tenant_id)
        )
        return parse_list(data, "items", TopicPreference.from_api)

    def get_preference(
        self, user_id: str, topic_id: str, tenant_id: str | None = None
    ) -> TopicPreference:
        """Return the user's preference for one topic; raise CourierNotFound for no such topic."""
        data = self._request(
            "GET",
            f"/users/{_segment(user_id)}/preferences/{_segment(topic_id)}",
            params=_tenant_query(tenant_id),
        )
        if not isinstance(data, Mapping):
            raise CourierMalformedResponse("expected an object with 'topic'")
        return TopicPreference.from_api(data.get("topic"))

    def put_preference(
        self,
        user_id: str,
        topic_id: str,
        update: PreferenceUpdate,
        tenant_id: str | None = None,
    ) -> None:
        """Write one topic for the user: status and routing together, as Courier replaces both."""
        self._request(
            "PUT",
            f"/users/{_segment(user_id)}/preferences/{_segment(topic_id)}",
            params=_tenant_query(tenant_id),
            json=update.to_api(),
        )

    def put_preferences(
        self,
        user_id: str,
        updates: Mapping[str, PreferenceUpdate],
        tenant_id: str | None = None,
    ) -> dict[str, CourierError | None]:
        """Write several topics concurrently; map each topic id to its error, or None if saved."""
        futures = {
            topic_id: self._writers.submit(
                self.put_preference, user_id, topic_id, update, tenant_id
            )
            for topic_id, update in updates.items()
        }
        outcome: dict[str, CourierError | None] = {}
        for topic_id, future in futures.items():
            try:
                future.result()
            except CourierError as exc:
                outcome[topic_id] = exc
            else:
                outcome[topic_id] = None
        return outcome

    # -- workspace catalog -------------------------------------------------------------------

    def list_sections(self) -> list[Section]:
        """Return the workspace's preference sections, each with its topics."""
        return parse_list(
            self._request("GET", "/preferences/sections"), "results", Section.from_api
        )

    # -- transport ---------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send one request, retrying passing failures, and map failures onto the error tree.

        Every call this client makes is a GET or a PUT, both idempotent, so a retry can never
        apply a change twice.
        """
        policy = self._retry
        started = policy.clock()
        attempt = 1
        while True:
            try:
                return self._attempt(method, path, started, **kwargs)
            except CourierUnavailable as exc:
                elapsed = policy.clock() - started
                wait = exc.retry_after if exc.retry_after is not None else policy.backoff(attempt)
                if attempt >= policy.attempts or elapsed + wait >= policy.budget:
                    raise
                log.warning("retrying %s %s in %.2fs: %s", method, path, wait, exc)
                policy.sleep(wait)
                attempt += 1

    def _attempt(self, method: str, path: str, started: float, **kwargs: Any) -> Any:
        """Send the request once; raise CourierUnavailable for what may pass on a retry."""
        # A retry gets no more time than the budget has left, so a hanging Courier cannot
        # hold a page for several full timeouts.
        remaining = self._retry.budget - (self._retry.clock() - started)
        timeout = self._timeout
        if remaining < (timeout.read or 0):
            timeout = httpx.Timeout(max(remaining, 0.5), connect=timeout.connect)
        try:
            response = self._http.request(method, path, timeout=timeout, **kwargs)
        except httpx.TimeoutException as exc:
            raise CourierUnavailable(f"Courier timed out on {method} {path}") from exc
        except httpx.TransportError as exc:
            raise CourierUnavailable(f"Courier could not be reached on {method} {path}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise CourierUnavailable(
                f"Courier answered {response.status_code} on {method} {path}",
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        if response.status_code == 404:
            raise CourierNotFound(_error_message(response))
        if response.status_code >= 400:
            raise CourierRejected(response.status_code, _error_message(response))
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            log.warning("Courier sent a body that is not JSON on %s %s", method, path)
            raise CourierMalformedResponse(f"Courier sent invalid JSON on {method} {path}") from exc


def _error_message(response: httpx.Response) -> str:
    """Return Courier's own error message, whatever shape the body has."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.reason_phrase or f"HTTP {response.status_code}"
    if isinstance(body, Mapping) and isinstance(body.get("message"), str):
        return body["message"]
    return response.reason_phrase or f"HTTP {response.status_code}"
