"""Render once, fill per person (page/rendering.py, page/stencils.py): the page is byte for
byte the plain one.

Every render of the preferences page here is made twice in the same request: the fast way
(the quiet page filled in from its stencil, rows reused from the cache) and the plain way (the
template alone, the reference). Both must be identical, across languages, list modes, required
topics, channel choice on and withdrawn, digest choices, refused saves, messages, embedding,
tenants, the support preview and hostile names; a second view of each state is made from the
caches. A stencil serves many people, each with only their own values; a template that would
put one person's values into it is rendered plainly instead.
"""

from __future__ import annotations

import json
import logging
import re
import time

import pytest
from flask import Flask, render_template
from jinja2 import ChoiceLoader, DictLoader

from prefcenter import create_app
from prefcenter.access.identity import masked
from prefcenter.access.links import LinkClaims, Purpose
from prefcenter.courier import CatalogTopic, PreferenceStatus, PreferenceUpdate, Section
from prefcenter.emulator import create_emulator_app, seed
from prefcenter.emulator.testing import courier_client
from prefcenter.page import rendering, views
from prefcenter.page.forms import field_key
from prefcenter.page.preferences import DefaultStates, TopicState

from conftest import EMULATOR_KEY, USER
from htmlform import HtmlForm, text_of

OTHER = "user-2"
HOST_ORIGIN = "https://app.example.com"
HOSTILE = "<script>alert(\"x\")</script> & 'quoted' <b>bold</b>"


def status(topic_id: str) -> str:
    return f"{field_key(topic_id)}-status"


def channels(topic_id: str) -> str:
    return f"{field_key(topic_id)}-channels"


def digest(topic_id: str) -> str:
    return f"{field_key(topic_id)}-digest"


@pytest.fixture
def emulator() -> Flask:
    """The demo workspace with digest schedules, so "How often" is on the page too."""
    return create_emulator_app(
        db_path=":memory:", api_key=EMULATOR_KEY, seed=True, digest_schedules=True
    )


@pytest.fixture
def app_config(app_config, tmp_path):
    translations = tmp_path / "catalog-translations.json"
    translations.write_text(
        json.dumps({"de": {"topics": {seed.TOPIC_EVENTS: {"name": "Veranstaltungen"}}}})
    )
    return {
        **app_config,
        "EMBED_ALLOWED_ORIGINS": [HOST_ORIGIN],
        "LINK_API_KEY": "link-api-key-for-render-tests",
        "CATALOG_TRANSLATIONS_PATH": str(translations),
    }


@pytest.fixture
def renders(monkeypatch) -> list[tuple[str, str]]:
    """Every page render, as (fast, plain): the plain one made in the same request after."""
    pairs: list[tuple[str, str]] = []

    def both(template: str, **context):
        fast = rendering.render_page(template, **context)
        reference = {k: v for k, v in context.items() if k not in ("sections", "secrets")}
        pairs.append((fast, render_template(template, **reference)))
        return fast

    monkeypatch.setattr(views, "render_page", both)
    return pairs


def identical(renders: list[tuple[str, str]], count: int | None = None) -> str:
    """Check every render so far was the plain one, byte for byte; return the last page."""
    assert renders, "no page was rendered"
    if count is not None:
        assert len(renders) == count
    for fast, plain in renders:
        assert fast == plain
    page = renders[-1][0]
    renders.clear()
    return page


def cache(app: Flask) -> rendering.FragmentCache:
    return app.extensions["prefcenter_fragments"]


def stencils(app: Flask) -> rendering.FragmentCache:
    return app.extensions["prefcenter_stencils"]


def kept_stencils(app: Flask) -> list[tuple]:
    """The stencils kept (a key found not to stencil keeps an empty one)."""
    return [stencil for stencil in stencils(app)._rows.values() if stencil]


def rename(emulator: Flask, topic_id: str, section_id: str, **topic) -> None:
    """Change a topic through Courier's API (the official SDK), as a workspace admin would."""
    with courier_client(emulator, api_key=EMULATOR_KEY, strict=True) as sdk:
        sdk.workspace_preferences.topics.replace(topic_id, section_id=section_id, **topic)


def signed_in_client(app: Flask, mint, user_id: str = USER, lang: str | None = None):
    client = app.test_client()
    claims = {"locale": lang} if lang else {}
    assert client.get(f"/l/{mint(user_id, **claims)}").status_code == 302
    return client


@pytest.mark.parametrize("list_mode", ["overrides", "all"])
@pytest.mark.parametrize("lang", ["en", "de", "ar"])
def test_the_page_and_its_saves_render_as_the_template_does(
    app, mint, courier_state, renders, lang, list_mode
):
    courier_state.behaviours.list_mode = list_mode
    client = signed_in_client(app, mint, lang=lang)
    first = client.get(f"/?lang={lang}")
    assert first.status_code == 200
    identical(renders, 1)
    made, filled = cache(app).misses, stencils(app).hits
    again = client.get(f"/?lang={lang}")
    assert identical(renders, 1) == again.get_data(as_text=True)
    assert stencils(app).hits > filled  # the second view was filled in from the page's stencil
    assert cache(app).misses == made  # ... with rows made before
    html = again.get_data(as_text=True)
    assert f'lang="{lang}"' in html and ('dir="rtl"' in html) == (lang == "ar")

    # A switch off, a channel dropped and another schedule: saved, then shown with "Saved".
    form = HtmlForm.parse(html)
    form.set(status(seed.TOPIC_REMINDERS), "OPTED_IN", False)
    form.set(channels(seed.TOPIC_COMMENTS), "push", False)
    form.choose(digest(seed.TOPIC_PRODUCT_UPDATES), seed.SCHEDULE_DAILY)
    saved = client.post("/", data=form.submission(), follow_redirects=True)
    assert saved.status_code == 200
    page = identical(renders, 1)
    assert not HtmlForm.parse(page).checkbox(status(seed.TOPIC_REMINDERS)).checked
    assert HtmlForm.parse(page).chosen(digest(seed.TOPIC_PRODUCT_UPDATES)) == seed.SCHEDULE_DAILY
    client.get(f"/?lang={lang}")
    identical(renders, 1)

    # A refused save: a value no page offers, beside a valid change that is still saved.
    form = HtmlForm.parse(page)
    form.set(status(seed.TOPIC_EVENTS), "OPTED_IN", True)
    refused = client.post(
        "/", data=form.submission((status(seed.TOPIC_DIGEST), "REQUIRED"), ("channels", "x"))
    )
    assert refused.status_code == 400
    identical(renders, 1)
    # One channel dropped to none while on: the topic's own error, nothing else saved.
    form = HtmlForm.parse(client.get(f"/?lang={lang}").get_data(as_text=True))
    identical(renders, 1)
    for channel in ("email", "push", "inbox"):
        control = [c for c in form.controls if c.name == channels(seed.TOPIC_COMMENTS)]
        if any(c.value == channel for c in control):
            form.set(channels(seed.TOPIC_COMMENTS), channel, False)
    assert client.post("/", data=form.submission()).status_code == 400
    identical(renders, 1)


def test_a_change_made_elsewhere_meanwhile_says_so_as_the_template_does(
    app, mint, courier, renders
):
    client = signed_in_client(app, mint)
    form = HtmlForm.parse(client.get("/").get_data(as_text=True))
    identical(renders, 1)
    # Email only, chosen elsewhere; the open page drops push instead.
    courier.put_preference(
        USER,
        seed.TOPIC_COMMENTS,
        PreferenceUpdate(
            status=PreferenceStatus.OPTED_IN, has_custom_routing=True, custom_routing=("email",)
        ),
    )
    form.set(channels(seed.TOPIC_COMMENTS), "push", False)
    form.set(status(seed.TOPIC_EVENTS), "OPTED_IN", True)
    page = client.post("/", data=form.submission(), follow_redirects=True)
    assert page.status_code == 200
    assert "changed elsewhere" in text_of(identical(renders, 1))


def test_channel_choice_withdrawn_by_the_plan_renders_as_the_template_does(
    app, mint, courier_state, renders
):
    courier_state.behaviours.channel_customization = False
    client = signed_in_client(app, mint)
    form = HtmlForm.parse(client.get("/").get_data(as_text=True))
    identical(renders, 1)
    form.set(channels(seed.TOPIC_COMMENTS), "push", False)
    assert client.post("/", data=form.submission(), follow_redirects=True).status_code == 200
    page = identical(renders, 1)
    assert "not available at the moment" in text_of(page)
    assert f'name="{channels(seed.TOPIC_COMMENTS)}"' not in page  # no channel boxes now
    client.get("/")
    identical(renders, 1)


@pytest.mark.parametrize("hide", [frozenset(), frozenset({"heading", "language", "banner"})])
def test_the_embedded_page_renders_as_the_template_does(app, mint, renders, hide):
    frame = app.test_client(use_cookies=False)
    token = app.extensions["prefcenter"].links.make(LinkClaims(USER, Purpose.EMBED, hide=hide))
    page = frame.get(f"/e/{token}/")
    assert page.status_code == 200
    html = identical(renders, 1)
    form = HtmlForm.parse(html)
    form.set(status(seed.TOPIC_EVENTS), "OPTED_IN", True)
    saved = frame.post(form.action, data=form.submission(), follow_redirects=True)
    assert saved.status_code == 200
    after = identical(renders, 1)
    assert 'class="embedded"' in after
    # The embed token is renewed per request: no cached row may hold one.
    assert all(token not in row for row in cache(app)._rows.values())


def test_the_support_preview_renders_as_the_template_does(app, renders):
    minter = app.extensions["prefcenter"].minter
    token = minter.mint(LinkClaims(USER, Purpose.PREVIEW, by="agent-7"), now=time.time()).token
    client = app.test_client()
    for _ in range(2):
        assert client.get(f"/preview/{token}").status_code == 200
        page = identical(renders, 1)
    assert "disabled" in page and "csrf_token" not in page


def test_translated_and_hostile_names_render_as_the_template_does(app, mint, emulator, renders):
    rename(
        emulator,
        seed.TOPIC_DIGEST,
        seed.SECTION_NEWS,
        name=HOSTILE,
        default_status="OPTED_OUT",
        description=HOSTILE,
        topic_data={"translations": {"de": {"name": f"DE {HOSTILE}"}}},
    )
    for lang in ("en", "de"):
        client = signed_in_client(app, mint, lang=lang)
        for _ in range(2):
            client.get(f"/?lang={lang}")
            page = identical(renders, 1)
        assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "Veranstaltungen" in page  # the translations file's name for the events topic


def test_two_people_interleaved_each_see_only_their_own_choices(app, mint, courier, renders):
    courier.put_preference(
        OTHER, seed.TOPIC_REMINDERS, PreferenceUpdate(status=PreferenceStatus.OPTED_OUT)
    )
    courier.put_preference(
        OTHER, seed.TOPIC_EVENTS, PreferenceUpdate(status=PreferenceStatus.OPTED_IN)
    )
    one = signed_in_client(app, mint, USER)
    other = signed_in_client(app, mint, OTHER)
    pages: dict[str, set[str]] = {USER: set(), OTHER: set()}
    for _ in range(3):
        for who, client in ((USER, one), (OTHER, other)):
            client.get("/")
            pages[who].add(identical(renders, 1))
    for who, expected in ((USER, (True, False)), (OTHER, (False, True))):
        for page in pages[who]:
            form = HtmlForm.parse(page)
            shown = (
                form.checkbox(status(seed.TOPIC_REMINDERS)).checked,
                form.checkbox(status(seed.TOPIC_EVENTS)).checked,
            )
            assert shown == expected, who
    assert stencils(app).hits == 5  # six views, one stencil made


def test_the_cache_keeps_no_more_rows_than_it_may(app_config, courier, mint, renders):
    app = create_app({**app_config, "PAGE_RENDER_ONCE_SIZE": 3}, courier=courier, environ={})
    client = signed_in_client(app, mint)
    for _ in range(2):
        client.get("/")
        identical(renders, 1)
    assert len(cache(app)) == 3


def test_the_stencils_kept_are_no_more_than_they_may_be(app_config, courier, mint, renders):
    app = create_app({**app_config, "PAGE_STENCILS_SIZE": 1}, courier=courier, environ={})
    for tenant in ("acme", "globex", "acme"):
        client = app.test_client()
        assert client.get(f"/l/{mint(USER, tenant_id=tenant)}").status_code == 302
        client.get("/")
        assert f"t={tenant}" in identical(renders, 1)
    assert len(kept_stencils(app)) == 1
    assert stencils(app).hits == 0  # each tenant's stencil pushed the other's out


def test_a_changed_catalog_leaves_no_row_of_the_old_one(app, mint, emulator, renders):
    client = signed_in_client(app, mint)
    client.get("/")
    identical(renders, 1)
    assert any("Events and webinars" in row for row in cache(app)._rows.values())
    rename(
        emulator,
        seed.TOPIC_EVENTS,
        seed.SECTION_NEWS,
        name="Live sessions",
        default_status="OPTED_OUT",
    )
    app.extensions["prefcenter"].catalog.clear()
    page = client.get("/").get_data(as_text=True)
    identical(renders, 1)
    assert "Live sessions" in page and "Events and webinars" not in page
    assert not any("Events and webinars" in row for row in cache(app)._rows.values())


def test_the_plain_path_stays_available(app_config, courier, mint):
    app = create_app({**app_config, "PAGE_RENDER_ONCE": False}, courier=courier, environ={})
    fast = create_app(app_config, courier=courier, environ={})
    texts = []
    for each in (app, fast):
        client = each.test_client()
        link = each.extensions["prefcenter"].links.make(LinkClaims(USER, Purpose.MANAGE))
        assert client.get(f"/l/{link}").status_code == 302
        texts.append(text_of(client.get("/").get_data(as_text=True)))
    assert "prefcenter_fragments" not in app.extensions
    assert "prefcenter_stencils" not in app.extensions
    assert len(fast.extensions["prefcenter_fragments"]) > 0
    assert texts[0] == texts[1]


def test_a_row_holding_a_per_request_value_is_never_kept(app):
    """Should a template put the CSRF value or the signed record in a topic's row, the row is
    rendered every time rather than shown to the next person."""
    topic = _topic()
    secret = "per-request-value-0123"
    rows = iter([f"row with {secret}", "row without"])
    remember = rendering._memoised(lambda *args: next(rows), "test:row")
    with app.test_request_context("/"):
        token = rendering._scope.set(rendering._Scope(shared=(), secrets=(secret,)))
        try:
            assert remember(topic, {"on": "On"}) == f"row with {secret}"
            assert remember(topic, {"on": "On"}) == "row without"  # made again, not reused
            assert remember(topic, {"on": "On"}) == "row without"  # this one was kept
        finally:
            rendering._scope.reset(token)


def test_a_stencil_s_row_holding_a_per_request_value_is_never_kept(app):
    class ShownForm:
        """A form whose controls are made from the topic alone, as the page's first form."""

        def follows_topic(self, topic: TopicState) -> bool:
            return True

        def topic_fields(self, topic: TopicState) -> None:
            raise AssertionError("a followed topic's controls are not read for its key")

    secret = "per-request-value-0123"
    rows = iter([f"row with {secret}", "row without"])
    remember = rendering._memoised(lambda *args: next(rows), "test:stencil-row")
    fill = remember.filler((None, None, {"on": "On"}), {}, (0,), 1)
    with app.test_request_context("/"):
        token = rendering._scope.set(rendering._Scope(shared=(), secrets=(secret,)))
        try:
            assert fill(ShownForm(), _topic()) == f"row with {secret}"
            assert fill(ShownForm(), _topic()) == "row without"  # made again, not reused
            assert fill(ShownForm(), _topic()) == "row without"  # this one was kept
        finally:
            rendering._scope.reset(token)


def test_an_argument_it_cannot_key_is_rendered_plainly_every_time(app):
    calls = []

    def row(*args):
        calls.append(args)
        return "row"

    remember = rendering._memoised(row, "test:plain")
    with app.test_request_context("/"):
        token = rendering._scope.set(rendering._Scope(shared=(), secrets=()))
        try:
            for _ in range(2):
                remember(_topic(), object())  # an object whose markup a key cannot capture
        finally:
            rendering._scope.reset(token)
    assert len(calls) == 2


def test_one_stencil_serves_two_people_each_with_only_their_own_values(app, mint, courier, renders):
    courier.put_preference(
        OTHER, seed.TOPIC_REMINDERS, PreferenceUpdate(status=PreferenceStatus.OPTED_OUT)
    )
    pages = {}
    for who in (USER, OTHER):
        signed_in_client(app, mint, who).get("/")
        pages[who] = identical(renders, 1)
    assert len(kept_stencils(app)) == 1 and stencils(app).hits == 1
    first, second = pages[USER], pages[OTHER]
    for name in ("rendered", "csrf_token"):
        value = HtmlForm.parse(first).value(name)
        assert value and value not in second, name
    assert f"Signed in as {masked(USER)}." in text_of(first)
    assert f"Signed in as {masked(OTHER)}." in text_of(second)
    assert masked(USER) not in second
    assert HtmlForm.parse(first).checkbox(status(seed.TOPIC_REMINDERS)).checked
    assert not HtmlForm.parse(second).checkbox(status(seed.TOPIC_REMINDERS)).checked


def test_people_of_two_tenants_each_get_their_tenant_s_page(app, mint, renders):
    for tenant in ("acme", "globex"):
        client = app.test_client()
        assert client.get(f"/l/{mint(USER, tenant_id=tenant)}").status_code == 302
        client.get("/")
        page = identical(renders, 1)
        assert f"t={tenant}" in page  # the brand's stylesheet and icon are the tenant's
    assert len(kept_stencils(app)) == 2


def test_each_tenant_s_defaults_show_for_its_people_on_one_worker(
    app, mint, courier_state, renders
):
    # States of topics at their default are shared between views (page/preferences.py):
    # they must be told apart by the tenant's default, not by the topic alone.
    courier_state.store.upsert_tenant("acme", "Acme")
    courier_state.store.set_tenant_default("acme", seed.TOPIC_EVENTS, "OPTED_IN")
    courier_state.store.upsert_tenant("globex", "Globex")
    shown = []
    for tenant in ("acme", "globex", None, "acme", "globex"):
        client = app.test_client()
        assert client.get(f"/l/{mint(USER, tenant_id=tenant)}").status_code == 302
        client.get("/")
        form = HtmlForm.parse(identical(renders, 1))
        shown.append(form.checkbox(status(seed.TOPIC_EVENTS)).checked)
    assert shown == [True, False, False, True, False]
    assert courier_state.count("PUT", r".*") == 0  # defaults all along, never a choice


def test_views_made_from_two_catalogs_at_once_each_take_their_own_states():
    # While the catalog is read again, a view made from the old one and a view made from the
    # new one can run at once: neither may take a topic's state made from the other.
    def catalog(name: str) -> tuple[Section, ...]:
        topic = CatalogTopic("t1", name, "", PreferenceStatus.OPTED_IN)
        return (Section("s1", "Section", "", False, (), (topic,)),)

    old, new = catalog("Old name"), catalog("New name")
    shared = DefaultStates()
    make_old = shared.follow_catalog(old)
    make_new = shared.follow_catalog(new)
    assert make_new(new[0].topics[0], None, None, ()).name == "New name"
    assert make_old(old[0].topics[0], None, None, ()).name == "Old name"
    assert shared.follow_catalog(new)(new[0].topics[0], None, None, ()).name == "New name"


def test_embedded_pages_share_a_stencil_each_with_its_own_token(app, renders):
    actions = []
    for who in (USER, OTHER):
        token = app.extensions["prefcenter"].links.make(LinkClaims(who, Purpose.EMBED))
        assert app.test_client(use_cookies=False).get(f"/e/{token}/").status_code == 200
        actions.append(HtmlForm.parse(identical(renders, 1)).action)
        assert actions[-1].startswith("/e/")
    assert len(kept_stencils(app)) == 1 and stencils(app).hits == 1
    assert actions[0] != actions[1]


# Templates that would leave one person's values in a stencil, were it made of them.
UNSTENCILLED = {
    "a topic's state read outside its row": (
        "{{ topic_controls(form, topic, texts, why_id) }}",
        "{{ topic_controls(form, topic, texts, why_id) }}<i hidden>{{ topic.opted_in }}</i>",
        "the template reads 'opted_in' of a topic outside its row",
    ),
    "the signed record written another way": (
        "{{ form.rendered }}",
        "{{ form.rendered }}"
        "<i hidden>{{ form.rendered | replace('.', '/') | replace('<', '[') }}</i>",
        "a per-request value is in it in another form",
    ),
    "who is signed in, changed": (
        "{% if signed_in %}",
        "{% if signed_in %}<i hidden>{{ signed_in | upper }}</i>",
        "a per-request value is in it in another form",
    ),
}


@pytest.mark.parametrize("change", UNSTENCILLED, ids=list(UNSTENCILLED))
def test_a_template_that_would_leak_into_a_stencil_is_rendered_plainly(
    app, mint, courier, renders, caplog, change
):
    old, new, warning = UNSTENCILLED[change]
    env = app.jinja_env
    for name in ("preferences/page.html", "base.html"):
        source = env.loader.get_source(env, name)[0]
        if old in source:
            env.loader = ChoiceLoader([DictLoader({name: source.replace(old, new, 1)}), env.loader])
            break
    else:
        pytest.fail(f"no template has {old!r}")
    courier.put_preference(
        OTHER, seed.TOPIC_REMINDERS, PreferenceUpdate(status=PreferenceStatus.OPTED_OUT)
    )
    caplog.set_level(logging.WARNING, "prefcenter.page.stencils")
    pages = {}
    for _ in range(2):
        for who in (USER, OTHER):
            signed_in_client(app, mint, who).get("/")
            pages[who] = identical(renders, 1)  # the plain page, the changed template's own
    assert kept_stencils(app) == []
    assert [r.getMessage() for r in caplog.records].count(f"page not stencilled: {warning}") == 1
    assert masked(USER) not in pages[OTHER]
    assert HtmlForm.parse(pages[USER]).value("rendered") not in pages[OTHER]
    assert re.search(r"<i hidden>[^<]+</i>", pages[USER])  # the change is on the page


def _topic() -> TopicState:
    return TopicState(
        topic_id="pt_x",
        name="X",
        description="",
        required=False,
        opted_in=True,
        has_custom_routing=False,
        custom_routing=(),
        channel_options=(),
    )
