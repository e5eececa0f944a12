"""The page's stylesheet and scripts, made smaller once at start-up and served under hashed names.

static/ keeps the hand-written, commented sources (there is no build step). What a browser
fetches is the same code without comments and indentation, under a name that changes with its
content, so it can be cached for a year and a repeat view fetches only the HTML. Each is also
compressed once, at the strongest brotli and gzip settings, and served in the encoding the
browser prefers: no request compresses anything.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Flask, Response, abort, current_app, request, url_for

from .compression import ENCODINGS, chosen_encoding, compressed

YEAR = 365 * 24 * 60 * 60
MIMETYPES = {".css": "text/css", ".js": "text/javascript"}

bp = Blueprint("assets", __name__)


@dataclass(frozen=True)
class Asset:
    """One served file: its bytes, the hashed name they are served under, and the same bytes
    in each encoding (br, gzip)."""

    body: bytes
    hashed_name: str
    mimetype: str
    encoded: dict[str, bytes] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        return self.hashed_name.split(".")[-2]


def compact_css(css: str) -> str:
    """Drop comments and spare white space; never the space before ":" (a descendant selector)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    css = re.sub(r"\s+", " ", css)
    css = re.sub(r"\s*([{};,>])\s*", r"\1", css)
    css = re.sub(r":\s+", ":", css)
    return css.replace(";}", "}").strip()


def compact_js(js: str) -> str:
    """Drop whole-line comments, indentation and blank lines; code lines stay as written."""
    lines = (line.strip() for line in js.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//")) + "\n"


COMPACTORS = {".css": compact_css, ".js": compact_js}


def load_assets(static_folder: Path, names: tuple[str, ...]) -> dict[str, Asset]:
    """Read and compact the named files once."""
    assets = {}
    for name in names:
        path = static_folder / name
        body = COMPACTORS[path.suffix](path.read_text(encoding="utf-8")).encode()
        digest = hashlib.sha256(body).hexdigest()[:12]
        hashed = f"{path.stem}.{digest}{path.suffix}"
        encoded = {encoding: _compressed_once(body, encoding) for encoding in ENCODINGS}
        assets[name] = Asset(body, hashed, MIMETYPES[path.suffix], encoded)
    return assets


@lru_cache(maxsize=32)
def _compressed_once(body: bytes, encoding: str) -> bytes:
    # Once per process for each file's content: brotli's strongest setting takes about 12 ms
    # for the stylesheet, and tests build many apps.
    return compressed(body, encoding, once=True)


def register_assets(
    app: Flask, names: tuple[str, ...] = ("style.css", "app.js", "embed.js")
) -> None:
    """Serve the compacted assets at /assets/<hashed name>; templates use asset_url(name)."""
    assets = load_assets(Path(app.static_folder or "static"), names)
    app.extensions["prefcenter_assets"] = {
        "by_name": assets,
        "by_hashed": {asset.hashed_name: asset for asset in assets.values()},
    }
    app.register_blueprint(bp)
    app.jinja_env.globals["asset_url"] = asset_url


def asset_url(name: str) -> str:
    """The URL of a compacted asset, changing whenever its content does."""
    asset = current_app.extensions["prefcenter_assets"]["by_name"][name]
    return url_for("assets.serve", hashed_name=asset.hashed_name)


@bp.get("/assets/<hashed_name>")
def serve(hashed_name: str) -> Response:
    """One compacted asset, cacheable for a year: its name changes with its content."""
    asset = current_app.extensions["prefcenter_assets"]["by_hashed"].get(hashed_name)
    if asset is None:
        abort(404)
    encoding = chosen_encoding()
    if encoding in asset.encoded:
        response = Response(asset.encoded[encoding], mimetype=asset.mimetype)
        response.headers["Content-Encoding"] = encoding
        response.set_etag(f"{asset.digest}.{encoding}")
    else:
        response = Response(asset.body, mimetype=asset.mimetype)
        response.set_etag(asset.digest)
    response.vary.add("Accept-Encoding")
    response.cache_control.public = True
    response.cache_control.max_age = YEAR
    response.cache_control.immutable = True
    # A cache revalidating (If-None-Match) gets a 304 with no body.
    return response.make_conditional(request)
