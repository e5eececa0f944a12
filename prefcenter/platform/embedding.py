"""Which page a request is for: the signed-in page, or the one embedded at /e/<embed_token>/.

Kept below the language, security and rate-limit layers, which need to know it, and the access
layer, which decides it: each imports this module, none imports another for it.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request, url_for

EMBEDDED = "embedded"  # the name the page blueprint is registered under at /e/<embed_token>/


def is_embedded() -> bool:
    """Whether this request is for the embedded page."""
    return request.blueprint == EMBEDDED


def frameable(view: Any) -> Any:
    """Mark a view a host's frame may show though it is not the embedded page (where an
    expired frame's "Email me a new link" leads)."""
    view.frameable_by_host = True
    return view


def may_be_framed() -> bool:
    """Whether this response may be shown in a frame on EMBED_ALLOWED_ORIGINS."""
    if is_embedded():
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "frameable_by_host", False))


def home_url() -> str:
    """The preferences page for whoever this request is for."""
    if is_embedded() and g.get("embed_token"):
        return url_for(f"{EMBEDDED}.page", embed_token=g.embed_token)
    return url_for("preferences.page")
