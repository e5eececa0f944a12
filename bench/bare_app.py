"""The WSGI module gunicorn serves in parts 3 and 5: the app as `app:app` builds it, plus one
bench route, /_bench/bare, answering the exact bytes of the preferences page as rendered once
when the worker starts (same status, same Content-Type), with no Courier call, no form and no
template. Both routes run in the same app, under the same server, in the same run, so the
difference between their rates is the page's own cost.

    gunicorn -c gunicorn.conf.py bench.bare_app:app      (bench/servers.py starts it)
"""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit

from flask import Response

from bench.common import BARE_PATH, BENCH_USER, BROWSER_HEADERS
from prefcenter import create_app
from prefcenter.access.links import LinkClaims, Purpose

app = create_app()
_captured: dict[str, bytes | str] = {}


@app.get(BARE_PATH)  # routes must be added before the app handles its first request
def bare() -> Response:
    return Response(_captured["body"], status=200, content_type=_captured["content_type"])


def _capture() -> tuple[bytes, str]:
    """The signed-in page of the bench's user, as a browser would get it: body, Content-Type."""
    client = app.test_client()
    link = app.extensions["prefcenter"].minter.url(LinkClaims(BENCH_USER, Purpose.MANAGE))
    opened = client.get(urlsplit(link).path, headers=BROWSER_HEADERS)
    page = client.get("/", headers=BROWSER_HEADERS)
    if opened.status_code != 302 or page.status_code != 200:
        raise RuntimeError(
            f"capturing the page: link {opened.status_code}, page {page.status_code}"
        )
    return page.get_data(), page.headers["Content-Type"]


_captured["body"], _captured["content_type"] = _capture()
print(
    f"bench: page captured in worker {os.getpid()} ({len(_captured['body'])} bytes)",
    file=sys.stderr,
    flush=True,
)
