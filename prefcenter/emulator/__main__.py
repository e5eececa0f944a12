"""CLI: serve the Courier emulator with werkzeug's threaded server."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from werkzeug.serving import make_server

from . import DEFAULT_API_KEY, create_emulator_app
from .api import EXTENSION_KEY
from .state import LIST_MODES


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
    parser.add_argument("--list-mode", choices=LIST_MODES, default="all",
                        help="list every topic (all) or only the user's overrides")
    return parser.parse_args(argv)


def _stop(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM into a normal exit so the server and database close cleanly."""
    raise SystemExit(0)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the server until interrupted."""
    args = _parse_args(argv)
    app = create_emulator_app(
        db_path=args.db, api_key=args.api_key, seed=not args.empty, list_mode=args.list_mode
    )
    server = make_server(args.host, args.port, app, threaded=True)
    signal.signal(signal.SIGTERM, _stop)
    print(
        f"Courier emulator listening on http://{args.host}:{server.port} "
        f"(API key: {args.api_key})",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        app.extensions[EXTENSION_KEY].store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
