"""Which page a request is for: the signed-in page, or the one embedded at /e/<embed_token>/.

Kept below the language, security and rate-limit layers, which need to know it, and the access
layer, which decides it: each imports this module, none imports another for it.
"""

from __future__ import annotations

from flask import g, request, url_for

EMBEDDED = "embedded"  # the name the page blueprint is registered under at /e/<embed_token>/


def is_embedded() -> bool:
    """Whether this request is for the embedded page."""
    return request.blueprint == EMBEDDED


def home_url() -> str:
    """The preferences page for whoever this request is for."""
    if is_embedded() and g.get("embed_token"):
        return url_for(f"{EMBEDDED}.page", embed_token=g.embed_token)
    return url_for("preferences.page")
