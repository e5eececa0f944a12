"""Hostile input on every endpoint that takes any: never a 5xx, never a bad write to Courier.

Property-based (hypothesis). Each example starts from what a real browser, mail provider or
sender would send and then breaks it: unknown, repeated and missing fields, values near the
valid ones, unicode, NUL, very long values, tampered signed records, raw bodies in odd
encodings, garbage and re-signed link tokens, arbitrary JSON. Whatever comes in, the answer is
a 4xx, the form again, or a redirect after a real and valid change, and every write Courier
receives is one the person could have made on the page.

Fixtures are function scoped but shared by the examples of one test, so each example resets
what it relies on itself: it clears Courier's request log and uses fresh test clients.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlencode

import jwt
import pytest
from babel.support import Translations
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, assume, event, example, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from prefcenter.access.links import ISSUER, Purpose
from prefcenter.emulator import seed
from prefcenter.page.forms import field_key

from htmlform import HtmlForm, text_of

TRANSLATIONS = Path(__file__).resolve().parent.parent / "prefcenter" / "translations"

USER = "user-1"
OTHER_USER = "user-2"
API_KEY = "link-api-key-for-hostile-input-tests"

ALL_TOPICS = (
    seed.TOPIC_SECURITY,
    seed.TOPIC_BILLING,
    seed.TOPIC_COMMENTS,
    seed.TOPIC_REMINDERS,
    seed.TOPIC_PRODUCT_UPDATES,
    seed.TOPIC_DIGEST,
    seed.TOPIC_EVENTS,
)
STATUSES = {"OPTED_IN", "OPTED_OUT", "REQUIRED"}
CHANNELS = {"direct_message", "email", "push", "sms", "webhook", "inbox"}
WRITE_PATH = re.compile(r"/users/(?P<user>.+)/preferences/(?P<topic>[^/]+)", re.S)

# Examples share the app of their test; the function-scoped fixtures are reset per example.
fuzz = settings(
    max_examples=200,
    deadline=None,
    print_blob=True,
    # No "explain" phase: it is slow, and the shrunk example plus its traceback say enough.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
fuzz_slow = settings(fuzz, max_examples=100)


@pytest.fixture
def app_config(app_config):
    # Rate limits have their own tests; here they would turn the fuzzing into a stream of
    # 429s and hide the behaviour under test, so they are set out of reach.
    unlimited = "1000000 per minute"
    return {
        **app_config,
        "LINK_API_KEY": API_KEY,
        "RATE_LIMIT_LINKS": unlimited,
        "RATE_LIMIT_ONE_CLICK": unlimited,
        "RATE_LIMIT_API": unlimited,
        "RATE_LIMIT_EMBED": unlimited,
    }


# ---- what Courier may receive ---------------------------------------------------------------


def _catalog(courier_state) -> dict[str, tuple[bool, set[str]]]:
    """Topic id -> (required by the catalog, channels its section lets people choose)."""
    catalog = {}
    for section in courier_state.store.list_sections():
        offered = set(section["routing_options"]) if section["has_custom_routing"] else set()
        for topic in section["topics"]:
            catalog[topic["id"]] = (topic["default_status"] == "REQUIRED", offered)
    return catalog


def writes(courier_state) -> list:
    """Every request that was not a read."""
    return [r for r in courier_state.requests if r.method not in ("GET", "HEAD")]


def assert_courier_only_saw_valid_writes(
    courier_state, user_id: str, tenant_id: str | None = None
) -> None:
    """Every write Courier received is a well-formed single-topic PUT this person could make."""
    catalog = _catalog(courier_state)
    for request in writes(courier_state):
        where = f"{request.method} {request.path}?{request.query} {request.body!r}"
        assert request.method == "PUT", where
        match = WRITE_PATH.fullmatch(request.path)
        assert match is not None, where
        assert match["user"] == user_id, f"a write for someone else: {where}"
        assert request.query == ({"tenant_id": tenant_id} if tenant_id else {}), where
        assert match["topic"] in catalog, f"a topic not in the catalog: {where}"
        body = request.body
        assert isinstance(body, dict) and set(body) == {"topic"}, where
        topic = body["topic"]
        assert isinstance(topic, dict), where
        assert set(topic) == {"status", "has_custom_routing", "custom_routing"}, where
        # REQUIRED is a topic default, never a write (SDK 9.13: OPTED_IN or OPTED_OUT).
        assert topic["status"] in ("OPTED_IN", "OPTED_OUT"), where
        assert isinstance(topic["has_custom_routing"], bool), where
        routing = topic["custom_routing"]
        assert isinstance(routing, list), where
        assert all(isinstance(c, str) and c in CHANNELS for c in routing), where
        assert len(set(routing)) == len(routing), where
        required, offered = catalog[match["topic"]]
        if required:
            assert topic["status"] != "OPTED_OUT", f"a required topic turned off: {where}"
        else:
            assert topic["status"] != "REQUIRED", f"an optional topic made required: {where}"
        if topic["has_custom_routing"]:
            assert set(routing) <= offered, f"a channel the section does not offer: {where}"


def assert_no_writes(courier_state) -> None:
    assert writes(courier_state) == [], "a refused request must not write"


PARTLY_SAVED = "Your other changes were saved, but not these. Please check:"
# The page may speak any language a hostile request asks for: its summary's words in each.
PARTLY_SAVED_IN = [PARTLY_SAVED] + [
    re.sub(r"\s+", " ", Translations.load(str(TRANSLATIONS), [code]).gettext(PARTLY_SAVED))
    for code in ("de", "es", "fr", "ar")
]


def refused_only_in_part(response) -> bool:
    """A save that refused some topics and saved the valid changes beside them."""
    if response.is_json:
        return bool((response.get_json(silent=True) or {}).get("saved"))
    page = text_of(response.get_data(as_text=True))
    return any(words in page for words in PARTLY_SAVED_IN)


# ---- strategies -----------------------------------------------------------------------------

# Any text a browser can encode: every code point but lone surrogates.
TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40)


def _long(pieces: list[str], low: int = 300, high: int = 3000) -> st.SearchStrategy[str]:
    return st.builds(lambda piece, n: piece * n, st.sampled_from(pieces), st.integers(low, high))


LONG_TEXT = _long(["x", "é", "😀", "\x00", "%", "OPTED_IN", "&=", "\u202e"])
# Ids that mean something in a URL path, plus unicode, controls and length.
# fmt: off
PATHLIKE = st.sampled_from([
    ".", "..", "...", "/", "a/b", "../x", "?", "?a=1", "#", "#x", "%", "%2F", "%2e%2e", " ",
    "\x00", "\t", "ü", "😀", "\u202e", "a;b", "~", "\\", "null",
])
# fmt: on
IDS = st.one_of(TEXT, PATHLIKE, _long(["i", "é", "/", "."], 100, 2000))

# fmt: off
STATUS_VALUES = [
    "OPTED_IN", "OPTED_OUT", "REQUIRED", "opted_in", "Opted_In", "OPTED_IN ", " OPTED_IN",
    "OPTED_IN\x00", "OPT_IN", "ＯＰＴＥＤ_ＩＮ", "on", "1", "true", "",
]
CHANNEL_VALUES = sorted(CHANNELS) + [
    "EMAIL", "Email", "email ", "e-mail", "SMS", "Push", "in_app", "ｅｍａｉｌ", "email,push",
    "unknown",
]
# fmt: on
VALUES = st.one_of(st.sampled_from(STATUS_VALUES + CHANNEL_VALUES), TEXT, LONG_TEXT)

KNOWN_NAMES = ["csrf_token", "rendered"] + [
    f"{field_key(topic)}{suffix}"
    for topic in ALL_TOPICS
    for suffix in ("-status", "-channels", "", "-csrf_token")
]
NAMES = st.one_of(
    st.sampled_from(KNOWN_NAMES),
    TEXT,
    st.builds(lambda name, tail: name + tail, st.sampled_from(KNOWN_NAMES), TEXT),
    st.builds(
        lambda topic, tail: field_key(topic) + tail, IDS, st.sampled_from(["-status", "-channels"])
    ),
)

# Changes to the submission a browser would make: replace, add, drop or repeat a field.
FIELD_CHANGES = st.lists(
    st.one_of(
        st.tuples(st.just("set"), NAMES, VALUES),
        st.tuples(st.just("add"), NAMES, VALUES),
        st.tuples(st.just("drop"), st.sampled_from(KNOWN_NAMES)),
        st.tuples(st.just("repeat"), st.sampled_from(KNOWN_NAMES)),
    ),
    max_size=8,
)
# What happens to the signed record of the page: None keeps it as rendered.
RENDERED_CHANGES = st.none() | st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 2000), st.characters(exclude_categories=("Cs",))),
    st.tuples(st.just("cut"), st.integers(0, 2000)),
    st.tuples(st.just("replace"), st.one_of(TEXT, LONG_TEXT)),
    st.just(("someone_else",)),  # a genuine record, of another person's page
    st.just(("drop",)),
)
ENCODINGS = st.sampled_from(["urlencoded", "multipart"])

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
    | PATHLIKE,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(TEXT, children, max_size=3),
    max_leaves=6,
)

FORM_TYPES = [
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-8",
    "application/x-www-form-urlencoded; charset=latin-1",
    "application/x-www-form-urlencoded; charset=utf-16",
    "application/x-www-form-urlencoded; charset=bogus",
    "multipart/form-data",
    "multipart/form-data; boundary=",
    "multipart/form-data; boundary=b",
    'multipart/form-data; boundary="b"; charset=utf-32',
    "text/plain",
    "text/plain; charset=utf-7",
    "application/json",
    "application/octet-stream",
    "",
]
CONTENT_TYPES = st.one_of(
    st.sampled_from(FORM_TYPES), st.text(st.characters(min_codepoint=32, max_codepoint=126))
)
# fmt: off
BYTE_PIECES = st.one_of(
    st.binary(max_size=64),
    st.sampled_from([
        b"%ff", b"%fe%ff", b"%", b"%z", b"%C3", b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\x00",
        b"+", b"=", b"&", b"&&", b";", b"\r\n", b"--b\r\n", b"--b--\r\n",
        b'Content-Disposition: form-data; name="x"\r\n\r\n',
        b"Content-Type: text/plain; charset=utf-16\r\n",
        f"{field_key(seed.TOPIC_DIGEST)}-status=OPTED_IN".encode(),
        f"{field_key(seed.TOPIC_COMMENTS)}-channels=sms".encode(),
        f"{field_key(seed.TOPIC_SECURITY)}-status=OPTED_OUT".encode(),
    ]),
)
# fmt: on
RAW_BODIES = st.lists(BYTE_PIECES, max_size=12).map(b"".join)

# What else a request carries: a query string (`lang` picks the language) and the headers that
# choose the answer's language and format (Accept: application/json is the autosave script).
LATIN1 = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=80)
LANGUAGE_TAGS = st.sampled_from(
    ["de", "de-AT", "fr_CA", "ar", "en", "xx", "", "DE", " de ", "de\x00", "../de", "e" * 40]
)
QUERIES = st.dictionaries(
    st.sampled_from(["lang", "t", "v", "user_id", "tenant_id", "next"]) | TEXT,
    LANGUAGE_TAGS | TEXT,
    max_size=3,
)
ACCEPTS = (
    st.sampled_from(
        [
            "application/json",
            "text/html",
            "application/json;q=0.9, text/html;q=0.1",
            "*/*",
            "application/*",
            "application/json;q=abc",
            ";;,,",
        ]
    )
    | LATIN1
)
ACCEPT_LANGUAGES = st.sampled_from(["de", "fr;q=0.5, ar", "*", "xx-YY", ";;;", "de;q=abc"]) | LATIN1
EXTRAS = st.builds(
    lambda query, accept, language: {
        "query_string": query,
        "headers": {
            name: value
            for name, value in (("Accept", accept), ("Accept-Language", language))
            if value is not None
        },
    },
    QUERIES,
    st.none() | ACCEPTS,
    st.none() | ACCEPT_LANGUAGES,
)


# ---- driving the pages ------------------------------------------------------------------------


def is_refusal(status: int) -> bool:
    return 400 <= status < 500


def sign_in(app: Flask, mint: Callable[..., str], user_id: str = USER) -> FlaskClient:
    client = app.test_client()
    assert client.get(f"/l/{mint(user_id)}").status_code == 302
    return client


def embed_url(mint: Callable[..., str], user_id: str = USER) -> str:
    return f"/e/{mint(user_id, Purpose.EMBED)}/"


def page_form(client: FlaskClient, url: str) -> HtmlForm:
    response = client.get(url)
    assert response.status_code == 200
    return HtmlForm.parse(response.get_data(as_text=True))


def change_fields(pairs: list[tuple[str, str]], changes) -> list[tuple[str, str]]:
    pairs = list(pairs)
    for change in changes:
        kind, name = change[0], change[1]
        if kind == "set":
            pairs = [p for p in pairs if p[0] != name] + [(name, change[2])]
        elif kind == "add":
            pairs.append((name, change[2]))
        elif kind == "drop":
            pairs = [p for p in pairs if p[0] != name]
        else:
            pairs += [p for p in pairs if p[0] == name]
    return pairs


def change_rendered(rendered: str, change, someone_elses: Callable[[], str]) -> str | None:
    if change is None:
        return rendered
    kind = change[0]
    if kind == "flip":
        at = change[1] % len(rendered)
        return rendered[:at] + change[2] + rendered[at + 1 :]
    if kind == "cut":
        return rendered[: change[1] % len(rendered)]
    if kind == "replace":
        return change[1]
    if kind == "someone_else":
        return someone_elses()
    return None  # dropped


def hostile_submission(form: HtmlForm, fields, rendered, someone_elses) -> MultiDict:
    pairs = [p for p in form.pairs() if p[0] != "rendered"]
    new_rendered = change_rendered(form.value("rendered"), rendered, someone_elses)
    if new_rendered is not None:
        pairs.append(("rendered", new_rendered))
    return MultiDict(change_fields(pairs, fields))


def raw_form_body(form: HtmlForm, from_the_page: bool, tail: bytes) -> bytes:
    """What a browser would post (or nothing), followed by arbitrary bytes."""
    return (urlencode(form.pairs()).encode() + b"&" if from_the_page else b"") + tail


def multipart_body(parts, boundary: bytes, close: bool) -> bytes:
    """A multipart body of (name or None, value, content type) parts, closed or cut short."""
    body = b""
    for name, value, part_type in parts:
        body += b"--" + boundary + b"\r\n"
        body += b"Content-Disposition: form-data"
        body += b'; name="' + name + b'"\r\n' if name is not None else b"\r\n"
        if part_type:
            body += b"Content-Type: " + part_type + b"\r\n"
        body += b"\r\n" + value + b"\r\n"
    return body + (b"--" + boundary + b"--\r\n" if close else b"")


# ---- 1 and 5: the save form -----------------------------------------------------------------


@fuzz
@given(fields=FIELD_CHANGES, rendered=RENDERED_CHANGES, encoding=ENCODINGS, extras=EXTRAS)
def test_save_form_refuses_hostile_fields_and_writes_only_valid_changes(
    app, mint, courier_state, fields, rendered, encoding, extras
):
    client = sign_in(app, mint)
    form = page_form(client, "/")
    data = hostile_submission(form, fields, rendered, lambda: _someone_elses_record(app, mint))
    courier_state.clear_requests()

    response = client.post(
        "/",
        data=data,
        content_type="multipart/form-data" if encoding == "multipart" else None,
        **extras,
    )
    event(f"answered {response.status_code}")

    # 200: the autosave script's JSON answer (Accept: application/json); 302: saved.
    assert response.status_code in (200, 302, 303) or is_refusal(response.status_code)
    if response.status_code == 302:
        assert response.headers["Location"].split("?")[0] == "/"
    if is_refusal(response.status_code) and not refused_only_in_part(response):
        assert_no_writes(courier_state)
    assert_courier_only_saw_valid_writes(courier_state, USER)


@fuzz
@given(fields=FIELD_CHANGES, rendered=RENDERED_CHANGES, encoding=ENCODINGS, extras=EXTRAS)
def test_embedded_save_refuses_hostile_fields_and_writes_only_valid_changes(
    app, mint, courier_state, fields, rendered, encoding, extras
):
    frame = app.test_client(use_cookies=False)
    form = page_form(frame, embed_url(mint))
    data = hostile_submission(form, fields, rendered, lambda: _someone_elses_record(app, mint))
    courier_state.clear_requests()

    response = frame.post(
        form.action,
        data=data,
        content_type="multipart/form-data" if encoding == "multipart" else None,
        **extras,
    )
    event(f"answered {response.status_code}")

    assert response.status_code in (200, 303) or is_refusal(response.status_code)
    if is_refusal(response.status_code) and not refused_only_in_part(response):
        assert_no_writes(courier_state)
    assert_courier_only_saw_valid_writes(courier_state, USER)


def _someone_elses_record(app: Flask, mint: Callable[..., str]) -> str:
    return page_form(sign_in(app, mint, OTHER_USER), "/").value("rendered")


URLENCODED_TYPES = [t for t in FORM_TYPES if t.startswith("application/x-www-form-urlencoded")]
MULTIPART_PARTS = st.lists(
    st.tuples(st.none() | st.binary(max_size=40), st.binary(max_size=200), st.binary(max_size=40)),
    max_size=6,
)
BOUNDARIES = st.sampled_from([b"b", b"b", b"", b"x" * 71, b"\xff", b"b c", b"--"])


@fuzz
@pytest.mark.parametrize("surface", ["session", "embedded"])
@given(
    # Mostly after what the page would post, so the body gets past CSRF to the form itself.
    from_the_page=st.sampled_from([True, True, True, False]),
    tail=RAW_BODIES,
    shape=st.one_of(
        st.tuples(st.just("urlencoded"), st.sampled_from(URLENCODED_TYPES)),
        st.tuples(st.just("multipart"), st.tuples(MULTIPART_PARTS, BOUNDARIES, st.booleans())),
        st.tuples(st.just("other"), CONTENT_TYPES),
    ),
    extras=EXTRAS,
)
# A multipart part without a name (werkzeug keys it None), and no csrf_token: tried every run.
@example(
    from_the_page=False,
    tail=b"",
    shape=("multipart", ([(None, b"v", b"")], b"b", True)),
    extras={},
)
def test_save_survives_raw_bodies_in_any_encoding(
    app, mint, courier_state, surface, from_the_page, tail, shape, extras
):
    client = sign_in(app, mint) if surface == "session" else app.test_client(use_cookies=False)
    form = page_form(client, "/" if surface == "session" else embed_url(mint))
    kind, detail = shape
    if kind == "multipart":
        parts, boundary, close = detail
        if from_the_page:
            parts = [(k.encode(), v.encode(), b"") for k, v in form.pairs()] + parts
        body = multipart_body(parts, boundary, close) + tail
        content_type = "multipart/form-data; boundary=" + boundary.decode("latin-1")
    else:
        body, content_type = raw_form_body(form, from_the_page, tail), detail
    courier_state.clear_requests()

    response = client.post(form.action, data=body, content_type=content_type, **extras)
    event(f"answered {response.status_code}")

    assert response.status_code in (200, 302, 303) or is_refusal(response.status_code)
    if is_refusal(response.status_code) and not refused_only_in_part(response):
        assert_no_writes(courier_state)
    assert_courier_only_saw_valid_writes(courier_state, USER)


@fuzz_slow
@given(
    undo=st.none() | RENDERED_CHANGES.filter(lambda change: change is not None),
    fields=FIELD_CHANGES,
    extras=EXTRAS,
)
def test_unsubscribe_all_undo_refuses_forged_undo_records(
    app, mint, courier_state, undo, fields, extras
):
    client = sign_in(app, mint)
    page = page_form(client, "/")
    # Make sure there is something to turn off, then unsubscribe from everything.
    assert client.post(
        "/", data=page.submission((f"{field_key(seed.TOPIC_DIGEST)}-status", "OPTED_IN"))
    ).status_code in (302, 400)
    everything = client.post(
        "/unsubscribe-all", data={"csrf_token": page.value("csrf_token")}, follow_redirects=True
    )
    assert everything.status_code == 200
    undo_form = HtmlForm.parse(everything.get_data(as_text=True))
    pairs = [p for p in undo_form.pairs() if p[0] != "undo"]
    record = change_rendered(undo_form.value("undo"), undo, lambda: _someone_elses_undo(app, mint))
    if record is not None:
        pairs.append(("undo", record))
    courier_state.clear_requests()

    data = MultiDict(change_fields(pairs, fields))
    response = client.post(undo_form.action, data=data, **extras)
    event(f"answered {response.status_code}")

    # 303: undone, on to the result page (PRG).
    assert response.status_code == 303 or is_refusal(response.status_code)
    if is_refusal(response.status_code):
        assert_no_writes(courier_state)
    assert_courier_only_saw_valid_writes(courier_state, USER)


def _someone_elses_undo(app: Flask, mint: Callable[..., str]) -> str:
    client = sign_in(app, mint, OTHER_USER)
    csrf = page_form(client, "/").value("csrf_token")
    page = client.post(
        "/unsubscribe-all", data={"csrf_token": csrf}, follow_redirects=True
    ).get_data(as_text=True)
    match = re.search(r'name="undo" value="([^"]+)"', page)
    return match[1] if match else "no-undo-record"


# ---- 2 and 3: link tokens -----------------------------------------------------------------

TOKENS = st.one_of(
    TEXT,
    PATHLIKE,
    LONG_TEXT,
    st.builds(
        lambda parts: ".".join(parts),
        st.lists(
            st.text(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=", max_size=60
            ),
            min_size=1,
            max_size=5,
        ),
    ),
)
# Characters left unescaped in the URL: none, or the ones that change how it is routed.
UNESCAPED = st.sampled_from(["", "/", "/%", "/%?#.;"])
TOKEN_REQUESTS = st.sampled_from(
    [
        ("GET", "/l/{}"),
        ("GET", "/e/{}/"),
        ("POST", "/e/{}/"),
        ("POST", "/e/{}/unsubscribe-all"),
        ("GET", "/u/{}"),
        ("POST", "/u/{}"),
        ("POST", "/u/{}/undo"),
    ]
)
ONE_CLICK_BODIES = st.one_of(
    st.just(({"List-Unsubscribe": "One-Click"}, None)),
    st.tuples(
        st.dictionaries(st.sampled_from(["List-Unsubscribe", "source"]) | TEXT, VALUES, max_size=3),
        ENCODINGS.map(lambda e: "multipart/form-data" if e == "multipart" else None),
    ),
    st.tuples(RAW_BODIES, CONTENT_TYPES),
)


@fuzz
@given(
    token=TOKENS, unescaped=UNESCAPED, request=TOKEN_REQUESTS, body=ONE_CLICK_BODIES, extras=EXTRAS
)
def test_garbage_tokens_are_refused_on_every_token_url(
    app, courier_state, token, unescaped, request, body, extras
):
    method, template = request
    client = app.test_client(use_cookies=False)
    data, content_type = body
    url = template.format(quote(token, safe=unescaped))
    if extras["query_string"]:  # after any "?" the token itself left in the URL
        url += ("&" if "?" in url else "?") + urlencode(extras["query_string"])
    courier_state.clear_requests()

    response = client.open(
        url,
        method=method,
        data=data if method == "POST" else None,
        content_type=content_type if method == "POST" else None,
        headers=extras["headers"],
    )
    event(f"answered {response.status_code}")
    response.close()

    # 308: werkzeug's redirect to the canonical URL when a raw "?" cut the path short.
    assert is_refusal(response.status_code) or response.status_code == 308, response.status_code
    assert_no_writes(courier_state)


def sign(payload: object, key: str) -> str:
    """A genuine HS256 token for any JSON payload, checked by nothing (as another sender's)."""
    return jwt.PyJWS().encode(json.dumps(payload).encode(), key, algorithm="HS256")


DELETE = object()
IDENTITY_CLAIMS = ("sub", "tid", "topic", "locale")
REGISTERED_CLAIMS = ("iss", "aud", "sub", "iat", "exp", "nbf", "jti")
CLAIM_CHANGES = st.dictionaries(
    st.sampled_from([*IDENTITY_CLAIMS, "aud", "iss", "iat", "exp", "nbf", "jti"]),
    st.just(DELETE) | JSON | IDS,
    max_size=4,
)


def emulator_can_route(id_: object) -> bool:
    """Whether the in-process emulator can route this user or topic id at all.

    It routes on the decoded path: an id with a leading, trailing or double "/" makes "//",
    which werkzeug answers with a redirect, and its `path` converter takes no newline. Such
    ids fail inside the emulator itself, whatever the app does.
    """
    if not isinstance(id_, str):
        return True
    return not (id_.startswith("/") or id_.endswith("/") or "//" in id_ or "\n" in id_)


def identity_is_valid(payload: dict) -> bool:
    """What the app accepts in the claims it reads itself (links._claims)."""
    sub = payload.get("sub")
    if not isinstance(sub, str) or not sub.strip() or sub in (".", ".."):
        return False
    if any(payload.get(name) in (".", "..") for name in ("tid", "topic")):
        return False  # ids no Courier path can carry
    return all(
        payload.get(name) is None or (isinstance(payload[name], str) and payload[name])
        for name in ("tid", "topic", "locale")
    )


@fuzz
@given(
    purpose=st.sampled_from([Purpose.MANAGE, Purpose.EMBED]),
    changes=CLAIM_CHANGES,
    extra=st.dictionaries(
        TEXT.filter(lambda name: name not in REGISTERED_CLAIMS), JSON, max_size=2
    ),
    not_an_object=st.none() | JSON.filter(lambda value: not isinstance(value, dict)),
    extras=EXTRAS,
)
# User ids that are URL path syntax, tried every run: "." and ".." are dot segments.
@example(purpose=Purpose.MANAGE, changes={"sub": "."}, extra={}, not_an_object=None, extras={})
@example(purpose=Purpose.EMBED, changes={"sub": ".."}, extra={}, not_an_object=None, extras={})
def test_signed_links_with_wrong_claims_are_refused_not_crashed(
    app, courier_state, purpose, changes, extra, not_an_object, extras
):
    now = int(time.time())
    payload = {
        **extra,
        "iss": ISSUER,
        "aud": purpose.audience,
        "sub": USER,
        "iat": now,
        "exp": now + 600,
    }
    for name, value in changes.items():
        if value is DELETE:
            payload.pop(name, None)
        else:
            payload[name] = value
    assume(emulator_can_route(payload.get("sub")))
    token = sign(
        payload if not_an_object is None else not_an_object, app.config["LINK_SIGNING_KEYS"][0]
    )
    client = app.test_client()
    url = f"/l/{token}" if purpose is Purpose.MANAGE else f"/e/{token}/"
    courier_state.clear_requests()

    response = client.get(url, **extras)
    event(f"answered {response.status_code}")

    success = 302 if purpose is Purpose.MANAGE else 200
    standard_claims_intact = not (set(changes) - set(IDENTITY_CLAIMS)) and not_an_object is None
    if standard_claims_intact and not identity_is_valid(payload):
        assert response.status_code == 404, "a wrong-typed claim is an invalid link"
    elif standard_claims_intact:
        assert response.status_code == success
    else:
        assert response.status_code in (success, 404, 410)
    if response.status_code == 302:
        # Signed in: the page for whoever the link named must open too.
        assert client.get("/").status_code == 200
    assert_no_writes(courier_state)


@fuzz
@given(
    user_id=st.just(USER) | IDS,
    tenant_id=st.none() | IDS,
    topic_id=st.sampled_from(ALL_TOPICS) | IDS,
    action=st.sampled_from(["confirm", "one_click", "undo"]),
    extras=EXTRAS,
)
@example(user_id=USER, tenant_id=None, topic_id=".", action="one_click", extras={})
@example(user_id="..", tenant_id=None, topic_id="sections", action="confirm", extras={})
def test_unsubscribe_links_for_any_topic_id_never_crash(
    app, mint, courier_state, user_id, tenant_id, topic_id, action, extras
):
    assume(emulator_can_route(user_id) and emulator_can_route(topic_id))
    unsendable = {user_id, tenant_id, topic_id} & {".", ".."}
    if unsendable:
        # Such a link can no longer be minted; one signed before must still only be refused.
        claims = {"sub": user_id, "topic": topic_id, "tid": tenant_id}
        token = raw_token(app, Purpose.UNSUBSCRIBE, claims)
    else:
        token = mint(user_id, Purpose.UNSUBSCRIBE, tenant_id=tenant_id, topic_id=topic_id)
    mail = app.test_client(use_cookies=False)
    courier_state.clear_requests()

    if action == "confirm":
        response = mail.get(f"/u/{token}", **extras)
    elif action == "one_click":
        response = mail.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"}, **extras)
    else:
        response = mail.post(f"/u/{token}/undo", **extras)

    # A known topic unsubscribes; an unknown one (or one Courier cannot find for this user)
    # gets the "gone" page. Either way, never a 5xx.
    event(f"{action} {'known' if topic_id in ALL_TOPICS else 'unknown'}: {response.status_code}")
    assert response.status_code == 200 or is_refusal(response.status_code), response.status_code
    if topic_id not in ALL_TOPICS or unsendable:
        assert is_refusal(response.status_code), response.status_code
        assert_no_writes(courier_state)
    assert_courier_only_saw_valid_writes(courier_state, user_id, tenant_id)


def raw_token(app, purpose: Purpose, claims: dict) -> str:
    """A link signed with the app's key whatever its claims, as an older minter could have."""
    now = int(time.time())
    payload = {"iss": "prefcenter", "aud": purpose.audience, "iat": now, "exp": now + 600}
    payload.update({name: value for name, value in claims.items() if value is not None})
    return jwt.encode(payload, app.config["LINK_SIGNING_KEYS"][0], algorithm="HS256")


@fuzz
@given(
    topic_id=st.sampled_from(ALL_TOPICS),
    path=st.sampled_from(["/u/{}", "/u/{}/undo"]),
    body=ONE_CLICK_BODIES,
    headers=st.dictionaries(
        st.sampled_from(
            [
                "List-Unsubscribe",
                "List-Unsubscribe-Post",
                "Origin",
                "Cookie",
                "Accept-Charset",
                "X-Forwarded-For",
            ]
        ),
        LATIN1,
        max_size=3,
    ),
    extras=EXTRAS,
)
def test_one_click_takes_any_body_and_writes_only_the_links_topic(
    app, mint, courier_state, topic_id, path, body, headers, extras
):
    token = mint(USER, Purpose.UNSUBSCRIBE, topic_id=topic_id)
    data, content_type = body
    mail = app.test_client(use_cookies=False)
    courier_state.clear_requests()

    response = mail.post(
        path.format(token),
        data=data,
        content_type=content_type,
        headers={**headers, **extras["headers"]},
        query_string=extras["query_string"],
    )
    event(f"answered {response.status_code}")

    assert response.status_code == 200 or is_refusal(response.status_code)
    if is_refusal(response.status_code):
        assert_no_writes(courier_state)
    assert {WRITE_PATH.fullmatch(r.path)["topic"] for r in writes(courier_state)} <= {topic_id}
    assert_courier_only_saw_valid_writes(courier_state, USER)


PAGES = ["/", "/ (signed out)", "/e/{embed}/", "/u/{unsubscribe}", "/l/{manage}", "/brand.css",
         "/healthz", "/readyz"]  # fmt: skip


@fuzz
@given(page=st.sampled_from(PAGES), extras=EXTRAS)
def test_pages_open_whatever_the_query_and_headers(app, mint, courier_state, page, extras):
    client = sign_in(app, mint) if page == "/" else app.test_client()
    url = page.removesuffix(" (signed out)").format(
        embed=mint(USER, Purpose.EMBED),
        unsubscribe=mint(USER, Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_DIGEST),
        manage=mint(USER),
    )
    courier_state.clear_requests()

    response = client.get(url, **extras)
    event(f"{page} answered {response.status_code}")
    response.close()

    assert response.status_code < 500, response.status_code
    assert_no_writes(courier_state)


# ---- 4: the link-minting API ------------------------------------------------------------------

API_FIELDS = ["user_id", "purpose", "tenant_id", "topic_id", "locale"]
API_OBJECTS = st.dictionaries(
    st.sampled_from(API_FIELDS) | TEXT,
    st.sampled_from(["manage", "unsubscribe", "embed", "MANAGE", "manage ", "u1"]) | IDS | JSON,
    max_size=6,
)
API_BODIES = st.one_of(
    API_OBJECTS.map(lambda body: ("json", body)),
    JSON.map(lambda body: ("json", body)),
    RAW_BODIES.map(lambda body: ("raw", body)),
    API_OBJECTS.map(lambda body: ("raw", json.dumps(body).encode("utf-16"))),
)
AUTHORIZATIONS = st.one_of(
    st.just(f"Bearer {API_KEY}"),
    st.sampled_from(
        [
            None,
            "",
            f"bearer {API_KEY}",
            f"Bearer  {API_KEY}",
            f"Basic {API_KEY}",
            f"Bearer {API_KEY}x",
            "Bearer",
            "Bearer ",
        ]
    ),
    LATIN1,
)
API_CONTENT_TYPES = (
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "application/json; charset=latin-1",
            "application/problem+json",
            "text/json",
            "text/plain",
        ]
    )
    | CONTENT_TYPES
)
HEADER_NAMES = st.text(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=20
)
OTHER_HEADERS = st.dictionaries(
    HEADER_NAMES.filter(
        lambda name: (
            name.lower()
            not in {"authorization", "content-type", "content-length", "transfer-encoding", "host"}
        )
    ),
    LATIN1,
    max_size=3,
)


def expected_claims(body: object) -> dict[str, str] | None:
    """The link a valid request body asks for, or None for one the API must refuse."""
    if not isinstance(body, dict):
        return None

    def text(name: str, limit: int, required: bool) -> tuple[bool, str | None]:
        value = body.get(name)
        if value is None and not required:
            return True, None
        ok = isinstance(value, str) and bool(value.strip()) and len(value) <= limit
        return ok and all(ord(char) >= 32 for char in value), value

    purpose_ok, purpose = text("purpose", 20, True)
    if not purpose_ok or purpose not in {p.value for p in Purpose}:
        return None
    wanted = {"purpose": purpose}
    for name, limit in (("user_id", 256), ("tenant_id", 256), ("topic_id", 256), ("locale", 35)):
        ok, value = text(
            name, limit, name == "user_id" or (name, purpose) == ("topic_id", "unsubscribe")
        )
        if not ok:
            return None
        wanted[name] = value
    return wanted


@fuzz
@given(
    body=API_BODIES,
    authorization=AUTHORIZATIONS,
    content_type=API_CONTENT_TYPES,
    headers=OTHER_HEADERS,
    query=QUERIES,
)
def test_link_api_refuses_anything_but_a_valid_request(
    app, courier_state, body, authorization, content_type, headers, query
):
    kind, value = body
    raw = json.dumps(value).encode() if kind == "json" else value
    if authorization is not None:
        headers = {**headers, "Authorization": authorization}
    courier_state.clear_requests()

    response = app.test_client().post(
        "/api/links", data=raw, content_type=content_type, headers=headers, query_string=query
    )
    event(f"answered {response.status_code}")

    assert response.status_code == 201 or is_refusal(response.status_code), response.status_code
    try:
        sent = json.loads(raw)
    except ValueError:
        sent = None
    is_json = re.fullmatch(r"application/(.*\+)?json", content_type.split(";")[0].strip().lower())
    wanted = expected_claims(sent)
    if response.status_code == 201:
        assert authorization == f"Bearer {API_KEY}" and wanted is not None
        token = response.get_json()["token"]
        claims = app.extensions["prefcenter"].links.load(token, Purpose(wanted["purpose"]))
        assert claims.user_id == wanted["user_id"]
        assert claims.tenant_id == (wanted["tenant_id"] or None)
        assert claims.topic_id == (wanted["topic_id"] or None)
        assert claims.locale == (wanted["locale"] or None)
    elif authorization == f"Bearer {API_KEY}" and wanted is not None and is_json:
        pytest.fail(f"a valid request was refused: {response.status_code} {response.get_json()}")
    assert courier_state.requests == []  # minting never talks to Courier


# ---- 6: bodies over the size limit ------------------------------------------------------------


FORM_ENDPOINTS = [
    "/",
    "/unsubscribe-all",
    "/unsubscribe-all/undo",
    "/e/{embed}/",
    "/e/{embed}/unsubscribe-all",
    "/e/{embed}/unsubscribe-all/undo",
    "/u/{unsubscribe}",
    "/u/{unsubscribe}/undo",
]
OVERSIZE_CASES = [
    *((path, encoding) for path in FORM_ENDPOINTS for encoding in ("urlencoded", "multipart")),
    ("/api/links", "json"),
]


@pytest.mark.parametrize("path, encoding", OVERSIZE_CASES)
def test_a_body_over_the_size_limit_is_refused_with_413(app, mint, courier_state, path, encoding):
    client = sign_in(app, mint)
    csrf = page_form(client, "/").value("csrf_token")
    url = path.format(
        embed=mint(USER, Purpose.EMBED),
        unsubscribe=mint(USER, Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_DIGEST),
    )
    padding = "x" * app.config["MAX_CONTENT_LENGTH"]
    if encoding == "json":
        body = json.dumps({"user_id": USER, "purpose": "manage", "locale": padding}).encode()
        content_type = "application/json"
    else:
        fields = [("csrf_token", csrf), ("List-Unsubscribe", "One-Click"), ("pad", padding)]
        if encoding == "urlencoded":
            body, content_type = urlencode(fields).encode(), "application/x-www-form-urlencoded"
        else:
            body = multipart_body([(k.encode(), v.encode(), b"") for k, v in fields], b"b", True)
            content_type = "multipart/form-data; boundary=b"
    assert len(body) > app.config["MAX_CONTENT_LENGTH"]
    courier_state.clear_requests()

    response = client.post(
        url, data=body, content_type=content_type, headers={"Authorization": f"Bearer {API_KEY}"}
    )

    assert response.status_code == 413
    assert_no_writes(courier_state)
