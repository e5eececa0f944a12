"""A small Courier REST client for the preference endpoints, over one pooled httpx.Client."""

from __future__ import annotations

import contextvars
import http.cookiejar
import json
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from .errors import (
    CourierError,
    CourierMalformedResponse,
    CourierNotFound,
    CourierRejected,
    CourierUnavailable,
    InvalidIdentifier,
)
from .models import (
    ChangeLogPage,
    PreferenceUpdate,
    Section,
    TopicDefault,
    TopicPreference,
    parse_list,
    parse_tenant_defaults,
)
from .retries import RetryPolicy, retry_after_from_headers

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_BASE_URL = "https://api.courier.com"
# A page view waits on these calls, so they are far shorter than the SDK's 60 s default.
DEFAULT_TIMEOUT = httpx.Timeout(5.0, connect=2.0)
# Statuses Courier's SDK retries besides 5xx: 408 Request Timeout and 429 Too Many Requests.
RETRIED_STATUSES = frozenset({408, 429})
# One page of a person's change history: a screenful, well under the API's default of 25.
DEFAULT_LOG_PAGE = 20
# After Courier answers 402 to a write with channels, channel choice is not offered for this
# long: the plan rarely changes, and asking again on every write would double each one.
PLAN_RECHECK_SECONDS = 600.0
# Connections to Courier one process may hold, and keep for its next calls. httpx keeps 20
# of its 100 by default: a worker with more calls in flight than that closes the others after
# each answer and opens new ones for its next calls, which under the load run (50 people) was
# about half of all Courier calls; against Courier each is a TCP and a TLS handshake.
MAX_CONNECTIONS = 100


def _segment(value: str) -> str:
    """Escape one path segment so ids with "/", "?" or "#" stay one segment.

    Raises InvalidIdentifier for "", "." and "..", which Courier's SDK refuses even encoded.
    """
    if value in ("", ".", ".."):
        raise InvalidIdentifier(f"{value!r} cannot be sent to Courier as an id")
    return quote(value, safe="")


class _NoCookies(http.cookiejar.CookieJar):
    """A cookie jar that keeps nothing.

    One client serves every person this process serves, so a cookie Courier (or a proxy in
    front of it) set on one person's call would ride on everyone's later calls. Courier's API
    authenticates by key and sets none.
    """

    def set_cookie(self, cookie: http.cookiejar.Cookie) -> None:
        pass

    def extract_cookies(self, response: Any, request: Any) -> None:
        pass


def sendable_id(value: str) -> bool:
    """Whether `value` can name a user or topic in a Courier path."""
    return value not in ("", ".", "..")


class ChannelPlan:
    """What this process has learnt about the workspace's plan: may people choose channels?

    Courier answers 402 to a write carrying custom routing on plans without channel delivery
    customization. Once seen, channel choice is withdrawn for PLAN_RECHECK_SECONDS.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._refused_at: float | None = None

    def offers_channel_choice(self) -> bool:
        """Whether channel choice may be offered now."""
        with self._lock:
            if self._refused_at is None:
                return True
            if self._clock() - self._refused_at >= PLAN_RECHECK_SECONDS:
                self._refused_at = None
                return True
            return False

    def refused(self) -> None:
        """Record that Courier refused channel choice (402)."""
        with self._lock:
            self._refused_at = self._clock()


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
        max_concurrent_writes: int = 32,
        max_writes_per_save: int = 10,
        retry: RetryPolicy | None = None,
        plan: ChannelPlan | None = None,
    ) -> None:
        self._retry = retry or RetryPolicy()
        self.plan = plan or ChannelPlan()
        self._timeout = timeout
        self._base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self._base_url,
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            cookies=_NoCookies(),
            timeout=timeout,
            transport=transport,
            limits=httpx.Limits(
                max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS
            ),
        )
        # Writes for one save run side by side; the pool bounds how many at once per process,
        # and each save takes at most `max_writes_per_save` of them, so one large save
        # ("unsubscribe from everything" on a slow Courier) leaves room for everyone else's.
        self._writers = ThreadPoolExecutor(
            max_workers=max_concurrent_writes, thread_name_prefix="courier-write"
        )
        self._lanes_per_save = max(1, min(max_writes_per_save, max_concurrent_writes))

    def close(self) -> None:
        """Release pooled connections and writer threads."""
        self._writers.shutdown(wait=True)
        self._http.close()

    # -- users' preferences ------------------------------------------------------------------

    def list_preferences(self, user_id: str, tenant_id: str | None = None) -> list[TopicPreference]:
        """Return the user's topic preferences (every topic, or only overrides: both occur)."""
        path = f"/users/{_segment(user_id)}/preferences"
        try:
            data = self._request("GET", path, params=_tenant_query(tenant_id))
        except CourierNotFound:
            # Courier does not document what it answers for a user it has never seen; a 404
            # there means "no choices made yet", which is what an empty list says.
            return []
        return parse_list(data, "items", TopicPreference.from_api)

    def get_preference(
        self,
        user_id: str,
        topic_id: str,
        tenant_id: str | None = None,
        *,
        deadline: float | None = None,
    ) -> TopicPreference:
        """Return the user's preference for one topic; raise CourierNotFound for no such topic."""
        data = self._request(
            "GET",
            f"/users/{_segment(user_id)}/preferences/{_segment(topic_id)}",
            params=_tenant_query(tenant_id),
            deadline=deadline,
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
        *,
        deadline: float | None = None,
    ) -> PreferenceUpdate:
        """Write one topic for the user; return the write Courier took.

        Status and routing go together, as Courier's PUT replaces both. On a plan without
        channel customization (402 to a write with routing) the status alone is written, so
        an opt-out always lands; the returned write then carries no routing. No retry starts
        after `deadline` (the retry policy's clock).
        """
        path = f"/users/{_segment(user_id)}/preferences/{_segment(topic_id)}"
        params = _tenant_query(tenant_id)
        if update.with_routing and not self.plan.offers_channel_choice():
            update = update.status_only()
        try:
            self._request("PUT", path, params=params, json=update.to_api(), deadline=deadline)
        except CourierRejected as exc:
            if exc.status_code != 402 or not update.with_routing:
                raise
            log.warning("Courier refused channel routing (402): writing the status alone")
            self.plan.refused()
            update = update.status_only()
            self._request("PUT", path, params=params, json=update.to_api(), deadline=deadline)
        return update

    def put_preferences(
        self,
        user_id: str,
        updates: Mapping[str, PreferenceUpdate],
        tenant_id: str | None = None,
    ) -> dict[str, PreferenceUpdate | CourierError]:
        """Write several topics concurrently; map each topic id to the write taken, or its error.

        The save has one retry budget in all: a write not started by then is not sent and is
        reported unavailable, so a slow Courier costs the person one wait, not one per topic.
        """

        def write(topic_id: str, deadline: float) -> PreferenceUpdate:
            return self.put_preference(
                user_id, topic_id, updates[topic_id], tenant_id, deadline=deadline
            )

        return self._in_lanes(list(updates), write)

    def update_preferences(
        self,
        user_id: str,
        topic_ids: list[str],
        change: Callable[[TopicPreference], PreferenceUpdate | None],
        tenant_id: str | None = None,
    ) -> dict[str, tuple[TopicPreference, PreferenceUpdate | None] | CourierError]:
        """Read each topic as Courier holds it now, then write what `change` makes of it.

        Topics go concurrently, each read straight before its write, within one budget as in
        put_preferences. Map each topic id to (what was read, the write taken or None when
        `change` wanted none), or to its error.
        """

        def read_then_write(
            topic_id: str, deadline: float
        ) -> tuple[TopicPreference, PreferenceUpdate | None]:
            current = self.get_preference(user_id, topic_id, tenant_id, deadline=deadline)
            wanted = change(current)
            if wanted is None:
                return current, None
            return current, self.put_preference(
                user_id, topic_id, wanted, tenant_id, deadline=deadline
            )

        return self._in_lanes(topic_ids, read_then_write)

    def _in_lanes(
        self, topic_ids: list[str], work: Callable[[str, float], T]
    ) -> dict[str, T | CourierError]:
        """Run `work(topic_id, deadline)` for each topic on this save's share of the writers."""
        deadline = self._retry.clock() + self._retry.budget
        waiting = deque(topic_ids)
        done: dict[str, T | CourierError] = {}
        lock = threading.Lock()

        def lane() -> None:
            while True:
                with lock:
                    if not waiting:
                        return
                    topic_id = waiting.popleft()
                outcome: T | CourierError
                if self._retry.clock() >= deadline:
                    outcome = CourierUnavailable(
                        f"not sent: the save ran out of time before writing {topic_id}"
                    )
                else:
                    try:
                        outcome = work(topic_id, deadline)
                    except CourierError as exc:
                        outcome = exc
                with lock:
                    done[topic_id] = outcome

        # Each lane runs in a copy of this request's context, so its log lines carry the
        # request's id.
        lanes = [
            self._writers.submit(contextvars.copy_context().run, lane)
            for _ in range(min(self._lanes_per_save, len(waiting)))
        ]
        for finished in lanes:
            finished.result()
        return {topic_id: done[topic_id] for topic_id in topic_ids}

    # -- change history ----------------------------------------------------------------------

    def preference_logs(
        self,
        user_id: str,
        tenant_id: str | None = None,
        cursor: str | None = None,
        limit: int = DEFAULT_LOG_PAGE,
    ) -> ChangeLogPage:
        """Return one page of the user's preference changes, newest first.

        With `tenant_id`, only changes made in that tenant. `cursor` is the opaque value of
        the previous page's `paging.cursor`; Courier answers 400 (CourierRejected) to one it
        did not issue.
        """
        params: dict[str, Any] = {"user_id": user_id, "limit": limit, **_tenant_query(tenant_id)}
        if cursor:
            params["cursor"] = cursor
        return ChangeLogPage.from_api(self._request("GET", "/preferences/logs", params=params))

    # -- tenants -----------------------------------------------------------------------------

    def tenant_defaults(self, tenant_id: str) -> dict[str, TopicDefault]:
        """Return a tenant's default preferences by topic id; none for a tenant Courier lacks."""
        try:
            data = self._request("GET", f"/tenants/{_segment(tenant_id)}")
        except CourierNotFound:
            return {}
        return parse_tenant_defaults(data)

    # -- workspace catalog -------------------------------------------------------------------

    def list_sections(self) -> list[Section]:
        """Return the workspace's preference sections, each with its topics."""
        return parse_list(
            self._request("GET", "/preferences/sections"), "results", Section.from_api
        )

    # -- sending -----------------------------------------------------------------------------

    def send_message(
        self,
        user_id: str,
        *,
        template: str | None = None,
        content: Mapping[str, str] | None = None,
        data: Mapping[str, Any] | None = None,
        tenant_id: str | None = None,
        locale: str | None = None,
        channels: Sequence[str] = (),
    ) -> str:
        """Send a message to a person by user id (Courier finds their address); return its id.

        Give a template id or inline `content` (`title` and `body`), not both; `channels`
        routes inline content (one of them, in order). The person is named by id only, so no
        address passes through here, and nothing of the message is logged. Every try carries
        the same Idempotency-Key, so a retry after a lost answer cannot send twice.
        """
        if (template is None) == (content is None):
            raise ValueError("give either a template or content")
        _segment(user_id)  # the ids a path refuses ("", ".", "..") name no one here either
        to: dict[str, str] = {"user_id": user_id}
        if locale:
            to["locale"] = locale
        message: dict[str, Any] = {"to": to}
        if template is not None:
            message["template"] = template
        else:
            message["content"] = dict(content or {})
        if data:
            message["data"] = dict(data)
        if tenant_id:
            message["context"] = {"tenant_id": tenant_id}
        if channels:
            message["routing"] = {"method": "single", "channels": list(channels)}
        key = f"prefcenter-send-{uuid.uuid4().hex}"
        answer = self._request(
            "POST", "/send", json={"message": message}, headers={"Idempotency-Key": key}
        )
        request_id = answer.get("requestId") if isinstance(answer, Mapping) else None
        if not isinstance(request_id, str) or not request_id:
            raise CourierMalformedResponse("expected an object with 'requestId' from POST /send")
        return request_id

    # -- transport ---------------------------------------------------------------------------

    def _request(
        self, method: str, path: str, *, deadline: float | None = None, **kwargs: Any
    ) -> Any:
        """Send one request, retrying passing failures, and map failures onto the error tree.

        Every call this client makes is a GET or a PUT, both idempotent, or a POST /send
        carrying an Idempotency-Key, so a retry can never apply a change twice. No retry
        starts past the retry budget, or past `deadline`.
        """
        policy = self._retry
        started = policy.clock()
        budget_ends = started + policy.budget
        if deadline is not None:
            budget_ends = min(budget_ends, deadline)
        attempt = 1
        while True:
            try:
                return self._attempt(method, path, budget_ends, **kwargs)
            except CourierUnavailable as exc:
                wait = exc.retry_after if exc.retry_after is not None else policy.backoff(attempt)
                if exc.final or attempt >= policy.attempts or policy.clock() + wait >= budget_ends:
                    raise
                log.warning("retrying %s %s in %.2fs: %s", method, path, wait, exc)
                policy.sleep(wait)
                attempt += 1

    def _attempt(
        self,
        method: str,
        path: str,
        budget_ends: float,
        params: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Send the request once; raise CourierUnavailable for what may pass on a retry."""
        # A retry gets no more time than the budget has left, so a hanging Courier cannot
        # hold a page for several full timeouts.
        remaining = max(budget_ends - self._retry.clock(), 0.5)
        timeout = self._timeout
        if remaining < (timeout.read or 0):
            timeout = httpx.Timeout(remaining, connect=min(timeout.connect or remaining, remaining))
        # httpx's read timeout counts from each chunk; the call as a whole gets a total too,
        # so an answer trickling in a byte at a time cannot hold a page past it.
        ends = time.monotonic() + (timeout.read or remaining)
        try:
            request = self._http.build_request(
                method, self._url(path, params), timeout=timeout, **kwargs
            )
            response = self._http.send(request, stream=True)
            try:
                content = _read_until(response, ends)
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            raise CourierUnavailable(f"Courier timed out on {method} {path}") from exc
        except (httpx.HTTPError, httpx.StreamError) as exc:
            # Transport faults, and the rest (an undecodable body, say): nothing the person
            # did, and nothing a page should answer 500 for.
            raise CourierUnavailable(f"Courier could not be read on {method} {path}") from exc
        status = response.status_code
        hint = response.headers.get("x-should-retry", "").strip().lower()
        passing = status in RETRIED_STATUSES or status >= 500
        if passing or hint == "true":
            raise CourierUnavailable(
                f"Courier answered {status} on {method} {path}",
                retry_after=retry_after_from_headers(response.headers),
                # Courier's own SDK obeys this header both ways; so do we.
                final=hint == "false",
            )
        if status == 404:
            raise CourierNotFound(_error_message(response, content))
        if status >= 400:
            raise CourierRejected(status, _error_message(response, content))
        if status == 204 or not content:
            return None
        try:
            return json.loads(content)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            log.warning("Courier sent a body that is not JSON on %s %s", method, path)
            raise CourierMalformedResponse(f"Courier sent invalid JSON on {method} {path}") from exc

    def _url(self, path: str, params: Mapping[str, Any] | None) -> str:
        """The whole address of a call. httpx parses a URL once per form it is given in, so
        a path joined to the base and a query merged in separately cost it three parses on
        every call; this string costs one."""
        query = f"?{httpx.QueryParams(params)}" if params else ""
        return f"{self._base_url}{path}{query}"


def _read_until(response: httpx.Response, ends: float) -> bytes:
    """Read the whole body, refusing to go on past `ends` (time.monotonic())."""
    chunks = []
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        if time.monotonic() > ends:
            raise httpx.ReadTimeout("the answer took longer than the call's total timeout")
    return b"".join(chunks)


def _error_message(response: httpx.Response, content: bytes) -> str:
    """Return Courier's own error message, whatever shape the body has."""
    try:
        body = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.reason_phrase or f"HTTP {response.status_code}"
    if isinstance(body, Mapping) and isinstance(body.get("message"), str):
        return body["message"]
    return response.reason_phrase or f"HTTP {response.status_code}"
