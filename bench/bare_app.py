"""The WSGI module gunicorn serves in parts 3 and 5: the app as `app:app` builds it, plus two
bench routes answering the exact bytes of the preferences page as rendered once when the
worker starts (same status, same Content-Type), with no form and no template:

- /_bench/bare: those bytes, and nothing else;
- /_bench/floor: those bytes after the one Courier read a page view makes, through the app's
  own client, for the person the session names. No correct page can do less than this, so
  the page's rate over the floor's is how close the page comes to the least it could cost.

All three run in the same app, under the same server, in the same run, and go out through
the same after-request hooks (security headers, compression), so the differences between
their rates are the page's own costs.

    gunicorn -c gunicorn.conf.py bench.bare_app:app      (bench/servers.py starts it)
"""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit

from flask import Response, abort

from bench.common import BARE_PATH, BENCH_USER, BROWSER_HEADERS, FLOOR_PATH
from prefcenter import create_app
from prefcenter.access.guard import person
from prefcenter.access.links import LinkClaims, Purpose
from prefcenter.services import services

app = create_app()
_captured: dict[str, bytes | str] = {}


# Routes must be added before the app handles its first request.
@app.get(BARE_PATH)
def bare() -> Response:
    return Response(_captured["body"], status=200, content_type=_captured["content_type"])


@app.get(FLOOR_PATH)
def floor() -> Response:
    """What a page view reads, as the page reads it (see page.views._read_page): the cached
    catalog and tenant defaults, and the person's preferences from Courier, parsed."""
    who = person()  # from the session, as the page's
    if who is None:
        abort(403)
    svc = services()
    svc.catalog.sections()
    svc.courier.list_preferences(who.user_id, who.tenant_id)
    svc.tenant_defaults.defaults(who.tenant_id)
    return bare()


def _capture() -> tuple[bytes, str]:
    """The signed-in page of the bench's user, as a browser would get it: body, Content-Type."""
    client = app.test_client()
    link = app.extensions["prefcenter"].minter.url(LinkClaims(BENCH_USER, Purpose.MANAGE))
    opened = client.get(urlsplit(link).path, headers=BROWSER_HEADERS)
    page = client.get("/", headers=BROWSER_HEADERS)  # uncompressed: routes compress on the way out
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
