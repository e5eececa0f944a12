"""A WSGI app that reports how a gunicorn worker left the standard library after starting.

Served by tests/test_operations.py under the repo's gunicorn.conf.py, in place of the app.
"""

from __future__ import annotations

import json
import select
import socket

from gevent import monkey


def app(environ, start_response):
    state = {
        "poll is native": select.poll is monkey.get_original("select", "poll"),
        "select is gevent's": select.select is not monkey.get_original("select", "select"),
        "socket is gevent's": socket.socket is not monkey.get_original("socket", "socket"),
    }
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(state).encode()]
