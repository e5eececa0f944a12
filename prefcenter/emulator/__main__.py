"""CLI: serve the Courier emulator over HTTP/1.1 with keep-alive, as Courier's API is served.

Werkzeug's development server closes the connection after every answer, so each call paid for a
new TCP connection on both sides (client and emulator), which real Courier does not make its
callers do. gevent's WSGI server keeps connections open. Unpatched, as here, it switches
between requests only while one waits on its socket, so each request's body is read before
the app sees it (_body_read_first): the app then never waits on I/O (SQLite answers
in-process), and no lock it takes is held across a switch.
"""

from __future__ import annotations

import argparse
import io
import signal
import socket
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import gevent
from gevent.pywsgi import WSGIServer

from . import DEFAULT_API_KEY, create_emulator_app
from .api import EXTENSION_KEY
from .behaviours import (
    LIST_MODES,
    ROUTING_402_TRIGGERS,
    TENANT_DEFAULT_STATUSES,
    UNKNOWN_USER_ANSWERS,
    Behaviours,
)
from .inprocess import WSGIApp


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m prefcenter.emulator",
        description="Serve a Courier-compatible preferences API backed by SQLite.",
    )
    parser.add_argument("--port", type=int, required=True, help="port to listen on (0: any free)")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default loopback)")
    parser.add_argument("--db", default=":memory:", help="SQLite file (default: in memory)")
    parser.add_argument("--api-key", default=DEFAULT_API_KEY, help="Bearer key clients must send")
    parser.add_argument("--empty", action="store_true", help="do not seed the demo workspace")
    real = parser.add_argument_group(
        "real Courier behaviours",
        "Each switch shows one way real Courier answers. The defaults are the strictest "
        "documented reading (overrides-only list, 404 for an unknown user, REQUIRED writes "
        "refused) except channel customization, left on so the demo shows channel choice.",
    )
    real.add_argument(
        "--list-mode",
        choices=LIST_MODES,
        default=Behaviours.list_mode,
        help="GET /users/{id}/preferences lists every topic (all, older docs) or only the "
        "topics the user set (overrides, the SDK's docstring)",
    )
    real.add_argument(
        "--unknown-user",
        choices=UNKNOWN_USER_ANSWERS,
        default=Behaviours.unknown_user,
        help="what that list answers for a user Courier has never stored a choice for: "
        "200 as usual (empty) or 404 'User {id} not found' (undocumented either way)",
    )
    real.add_argument(
        "--no-channel-customization",
        action="store_true",
        help="a plan without channel delivery customization: routing writes get 402 'Channel "
        "delivery customization is not available for your plan', bulk writes list them in "
        "errors",
    )
    real.add_argument(
        "--routing-402-trigger",
        choices=ROUTING_402_TRIGGERS,
        default="routing",
        help="with --no-channel-customization, which writes get 402: real routing "
        "(has_custom_routing true or channels chosen) or any custom_routing field, even []",
    )
    real.add_argument(
        "--refuse-required-writes",
        action=argparse.BooleanOptionalAction,
        default=Behaviours.refuse_required_writes,
        help="refuse a single-topic write of status REQUIRED with 400, as the SDK documents "
        "only OPTED_IN/OPTED_OUT for writes (--no-refuse-required-writes accepts it on a "
        "topic whose default is REQUIRED)",
    )
    real.add_argument(
        "--tenant-default-status",
        choices=TENANT_DEFAULT_STATUSES,
        default="tenant",
        help="in a tenant-scoped read, default_status is the tenant's resolved default "
        "(tenant) or the workspace catalog's (workspace)",
    )
    real.add_argument(
        "--catalog-without-default-status",
        action="store_true",
        help="catalog topics (GET /preferences/sections ...) leave out default_status",
    )
    real.add_argument(
        "--extra-channel",
        action="append",
        default=[],
        metavar="NAME",
        help="a channel beyond today's enum that writes accept and reads return, as when "
        "Courier added inbox in 2023 (repeatable)",
    )
    real.add_argument(
        "--legacy-topics",
        action="store_true",
        help="seed two uncatalogued legacy topics that users hold but no catalog section "
        "lists (section_id omitted)",
    )
    real.add_argument(
        "--digest-schedules",
        action="store_true",
        help="give the demo's product updates topic a digest with instant, daily and weekly "
        "schedules that users can choose (digest_schedule_id)",
    )
    args = parser.parse_args(argv)
    if args.digest_schedules and args.empty:
        parser.error("--digest-schedules needs the demo workspace; drop --empty")
    try:
        args.behaviours = Behaviours(
            list_mode=args.list_mode,
            unknown_user=args.unknown_user,
            channel_customization=not args.no_channel_customization,
            routing_402_trigger=args.routing_402_trigger,
            refuse_required_writes=args.refuse_required_writes,
            tenant_default_status=args.tenant_default_status,
            catalog_default_status=not args.catalog_without_default_status,
            extra_channels=tuple(args.extra_channel),
        )
    except ValueError as exc:
        parser.error(str(exc))
    return args


def _body_read_first(app: WSGIApp, limit: int) -> WSGIApp:
    """Hand `app` each request's body already read: at most `limit` bytes and one more, so
    a longer body still gets the app's 413.

    A body read inside the app waits on the socket, and under gevent another request runs
    meanwhile: had the first taken a lock by then (a POST's Idempotency-Key is held while
    its body is parsed), a second waiting for that lock would stop the whole server.
    """

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(limit + 1)
        environ["wsgi.input"] = io.BytesIO(body)
        if environ.pop("HTTP_TRANSFER_ENCODING", None) is not None:
            # A chunked body, now read and unchunked: given to the app with its length, so
            # one past the limit gets the same 413 as a body sent with a Content-Length,
            # rather than being cut at the limit and refused as bad JSON.
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("wsgi.input_terminated", None)
        return app(environ, start_response)

    return wrapped


class _KeepAliveServer(WSGIServer):
    """gevent's WSGI server with Nagle's algorithm off on each connection: a kept-alive
    connection otherwise holds a small answer back until the client acknowledges the last
    one, about 40 ms per call."""

    def handle(self, sock: socket.socket, address: Any) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().handle(sock, address)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the server until interrupted."""
    args = _parse_args(argv)
    app = create_emulator_app(
        db_path=args.db,
        api_key=args.api_key,
        seed=not args.empty,
        behaviours=args.behaviours,
        legacy_topics=args.legacy_topics,
        digest_schedules=args.digest_schedules,
    )
    store = app.extensions[EXTENSION_KEY].store
    server = _KeepAliveServer(
        (args.host, args.port), _body_read_first(app, app.config["MAX_CONTENT_LENGTH"])
    )
    server.start()
    # SIGTERM and Ctrl-C end serve_forever() normally, so the database closes cleanly.
    for signum in (signal.SIGTERM, signal.SIGINT):
        gevent.signal_handler(signum, server.stop)
    address = f"http://{args.host}:{server.server_port}"
    print(
        f"Courier emulator listening on {address} (API key: {args.api_key});"
        f" what POST /send sends: {address}/outbox",
        flush=True,
    )
    try:
        server.serve_forever()
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
