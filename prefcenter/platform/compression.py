"""HTML, CSS and JavaScript compressed on the wire, when the browser says it can decode it.

A 40-topic page is some 40 KB of markup and under 5 KB compressed: unless a proxy compresses
for us, every view would carry ten times the bytes it needs. Pages are compressed per
response, quickly (brotli quality 4, gzip level 6: a few tenths of a millisecond for that
page, a few percent of what rendering it costs); the hashed assets are compressed once,
harder, at start-up (assets.py), and arrive here already encoded.

A few lines rather than Flask-Compress: the hashed assets are compressed once per process,
which its single cache (one key function for every response) does not express, so assets.py
would choose an encoding on its own anyway. Here one function chooses it for both.

What is left alone:
- anything but HTML, CSS and JavaScript, bodies under MIN_SIZE (the encoding's framing would
  outweigh the saving), and answers already encoded (the assets);
- streamed answers and files (Flask's static files): compressing them would mean buffering
  them whole, and their ETags and 304s are theirs;
- HEAD, which sends no body, and every status but 200. The pages that echo what a request
  sent are error pages (the not-found page's language links carry its path, "Try again" its
  address), and they carry the CSRF value too: compressing both in one body would let someone
  who chooses the path, and can watch the encrypted sizes, guess the value a byte at a time
  (BREACH). Successful pages echo nothing a request chooses but a checked language code.
"""

from __future__ import annotations

import gzip

import brotli
from flask import Flask, Response, request

COMPRESSIBLE = frozenset({"text/html", "text/css", "text/javascript"})
# Preferred first when the browser accepts both equally: brotli is about a quarter smaller.
ENCODINGS = ("br", "gzip")
MIN_SIZE = 512  # bytes; smaller bodies are left as they are


def chosen_encoding() -> str | None:
    """The encoding this request's Accept-Encoding prefers among ours, or None for none.

    Werkzeug parses the header: quality values are honoured, q=0 refuses, "*" takes our
    first choice.
    """
    return request.accept_encodings.best_match(ENCODINGS)


def compressed(body: bytes, encoding: str, *, once: bool = False) -> bytes:
    """`body` in `encoding`. `once`: for bytes compressed at start-up and served many times,
    at the strongest setting, whatever it costs."""
    if encoding == "br":
        if once:
            return brotli.compress(body, quality=11)
        # A window just large enough for the body: as small an answer as with brotli's
        # default 4 MiB window (a 40-topic page: 3,505 B either way), for about 40% less CPU,
        # since the encoder no longer sets up for a window the body never fills.
        return brotli.compress(body, quality=4, lgwin=brotli_window(len(body)))
    if encoding == "gzip":
        # mtime=0: the same bytes give the same compressed bytes, whenever compressed.
        return gzip.compress(body, compresslevel=9 if once else 6, mtime=0)
    raise ValueError(f"no such encoding: {encoding}")


def brotli_window(size: int) -> int:
    """The smallest window (log2 of its bytes, brotli's 10 to 24) holding `size` bytes."""
    # A window of 2**lgwin bytes holds 2**lgwin - 16 of them.
    return min(24, max(10, (size + 15).bit_length()))


def compress_response(response: Response) -> Response:
    """Compress a page, stylesheet or script for a browser that accepts it (after_request)."""
    if response.mimetype not in COMPRESSIBLE:
        return response
    # Compressed or not, the answer depends on Accept-Encoding: say so to every cache.
    response.vary.add("Accept-Encoding")
    if (
        request.method == "HEAD"
        or response.status_code != 200
        or response.is_streamed
        or response.direct_passthrough
        or "Content-Encoding" in response.headers
    ):
        return response
    encoding = chosen_encoding()
    if encoding is None:
        return response
    body = response.get_data()
    if len(body) < MIN_SIZE:
        return response
    response.set_data(compressed(body, encoding))  # Content-Length follows
    response.headers["Content-Encoding"] = encoding
    etag, weak = response.get_etag()
    if etag and not weak:  # a strong ETag names these bytes, so each encoding has its own
        response.set_etag(f"{etag}.{encoding}")
    return response


def register_compression(app: Flask) -> None:
    """Compress after every other after_request hook, so whatever they add to a body is in."""
    # Flask runs the app's hooks last-registered first: the front of the list runs last.
    app.after_request_funcs.setdefault(None, []).insert(0, compress_response)
