"""Support preview: a person's page as they see it, read-only, at /preview/<token>.

Support staff mint a preview link (`flask link USER --preview`, or POST /api/links with
purpose "preview"), short-lived and refused for every other purpose, as every other purpose's
link is refused here. The page is the person's own markup with every control disabled and no
way to save: it neither signs anyone in nor touches the viewer's own session, and a POST to it
is refused before anything reaches Courier. Each view is logged (who, for whom, who asked),
never with its token.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, g, make_response, render_template

from ..access.guard import token_authenticated
from ..access.identity import Person, masked
from ..access.links import LinkExpired, LinkInvalid, Purpose
from ..platform.i18n import use_link_locale
from ..platform.logs import current_request_id
from ..services import services
from .views import read_only_page

bp = Blueprint("preview", __name__)
log = logging.getLogger("prefcenter.preview")


@bp.get("/preview/<token>")
@token_authenticated
def show(token: str) -> Response:
    """Show the person's preferences read-only, with a banner saying so."""
    try:
        claims = services().links.load(token, Purpose.PREVIEW)
    except LinkExpired as expired:
        use_link_locale(expired.locale)
        # Said to support, not to the person: no "email me a new link" here.
        return _private(render_template("preferences/preview_expired.html"), 410)
    except LinkInvalid:
        return _private(render_template("links/invalid.html"), 404)
    use_link_locale(claims.locale)
    who = Person(claims.user_id, claims.tenant_id)
    g.person = who  # for the brand; this request signs no one in (token_authenticated)
    page = read_only_page(who, preview_of=masked(who.user_id))
    log.info(
        "preview viewed",
        extra={
            "fields": {
                "event": "preview_viewed",
                "user_id": who.user_id,
                "tenant_id": who.tenant_id,
                "by": claims.by,
                "request_id": current_request_id(),
            }
        },
    )
    return _private(page, 200)


@bp.post("/preview/<token>")
@token_authenticated
def refuse_post(token: str) -> Response:
    """Refuse any form sent to a preview: it is read-only, whatever is posted."""
    return _private(render_template("preferences/preview_read_only.html"), 403)


def _private(body: str, status: int) -> Response:
    """A preview's answer, kept out of search engines (no-store is set for every page)."""
    response = make_response(body, status)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
