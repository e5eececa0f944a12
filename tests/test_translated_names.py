"""Section and topic names in the page's language: from topic_data and from a translations file."""

from __future__ import annotations

import json
import re

import pytest

from prefcenter import create_app
from prefcenter.access.links import Purpose
from prefcenter.courier import CatalogTopic
from prefcenter.emulator import seed
from prefcenter.emulator.testing import courier_client
from prefcenter.platform.config import ConfigError, check_environment

from conftest import EMULATOR_KEY
from htmlform import HtmlForm, text_of

pytestmark = pytest.mark.consent_file  # consent records in `audit_path`

USER = "user-1"
JSON = {"Accept": "application/json"}
DIGEST_DE = "Wochenüberblick"
DIGEST_DE_ABOUT = "Das Wichtigste der Woche, jeden Montag."
BILLING_DE = "Rechnungen und Belege"
NEWS_DE = "Neuigkeiten und Angebote"
HOSTILE = '<img src=x onerror="alert(1)">Digest & co'

# The demo workspace's topic, as a workspace would give it translations in topic_data.
DIGEST_TOPIC = {
    "name": "Weekly digest",
    "default_status": "OPTED_OUT",
    "description": "A summary of the week's activity, every Monday.",
}


def give_topic_data(emulator, topic_data, topic=DIGEST_TOPIC, topic_id=seed.TOPIC_DIGEST):
    """Set a topic's topic_data through Courier's API (the official SDK), as an admin would."""
    with courier_client(emulator, api_key=EMULATOR_KEY, strict=True) as sdk:
        sdk.workspace_preferences.topics.replace(
            topic_id, section_id=seed.SECTION_NEWS, topic_data=topic_data, **topic
        )


def translations(**languages):
    return {"translations": languages}


@pytest.fixture
def translations_file(tmp_path):
    """Write a translations file; returns its path."""

    def write(content) -> str:
        path = tmp_path / "catalog-translations.json"
        path.write_text(content if isinstance(content, str) else json.dumps(content))
        return str(path)

    return write


@pytest.fixture
def app_with_file(app_config, courier, translations_file):
    def build(content, **settings):
        config = {**app_config, "CATALOG_TRANSLATIONS_PATH": translations_file(content), **settings}
        return create_app(config, courier=courier, environ={})

    return build


def german_client(app, **claims):
    """A person signed in by a German manage link."""
    client = app.test_client()
    token = app.extensions["prefcenter"].links.make(_claims(Purpose.MANAGE, locale="de", **claims))
    assert client.get(f"/l/{token}").status_code == 302
    return client


def _claims(purpose, **claims):
    from prefcenter.access.links import LinkClaims

    return LinkClaims(USER, purpose, **claims)


def page_text(client, path="/", **kwargs) -> str:
    response = client.get(path, **kwargs)
    assert response.status_code == 200
    return text_of(response.get_data(as_text=True))


# Where translations come from.


def test_topic_data_translations_show_on_a_page_in_that_language(app, emulator):
    give_topic_data(emulator, translations(de={"name": DIGEST_DE, "description": DIGEST_DE_ABOUT}))
    text = page_text(german_client(app))
    assert DIGEST_DE in text and DIGEST_DE_ABOUT in text
    assert "Weekly digest" not in text
    # Other topics, and other languages, keep Courier's names.
    assert "Billing and receipts" in text
    english = german_client(app)
    assert "Weekly digest" in page_text(english, "/?lang=en")
    assert "Weekly digest" in page_text(english, "/?lang=fr")


def test_translated_names_follow_a_changed_catalog(app, emulator):
    """Names are worked out once per catalog read, and again after the next one."""
    give_topic_data(emulator, translations(de={"name": DIGEST_DE}))
    client = german_client(app)
    assert DIGEST_DE in page_text(client)
    give_topic_data(emulator, translations(de={"name": "Wochenrückblick"}))
    app.extensions["prefcenter"].catalog.clear()  # as when the catalog cache expires
    text = page_text(client)
    assert "Wochenrückblick" in text and DIGEST_DE not in text


def test_the_file_translates_sections_and_topics(app_with_file):
    app = app_with_file(
        {
            "de": {
                "sections": {seed.SECTION_NEWS: {"name": NEWS_DE}},
                "topics": {seed.TOPIC_BILLING: {"name": BILLING_DE}},
            }
        }
    )
    client = german_client(app)
    html = client.get("/").get_data(as_text=True)
    assert f'<span class="section-name">{NEWS_DE}</span>' in html
    text = text_of(html)
    assert BILLING_DE in text and "Billing and receipts" not in text
    # A name translated alone keeps Courier's description.
    assert "Invoices, receipts and payment problems." in text
    assert "Billing and receipts" in page_text(client, "/?lang=en")


def test_the_file_comes_before_topic_data_and_each_field_falls_back_alone(app_with_file, emulator):
    give_topic_data(
        emulator, translations(de={"name": "Aus topic_data", "description": DIGEST_DE_ABOUT})
    )
    app = app_with_file({"de": {"topics": {seed.TOPIC_DIGEST: {"name": DIGEST_DE}}}})
    text = page_text(german_client(app))
    assert DIGEST_DE in text and "Aus topic_data" not in text
    assert DIGEST_DE_ABOUT in text  # the file gives no description: topic_data's


@pytest.mark.parametrize(
    "accept, shown",
    [
        ("de-AT,de;q=0.9", "Wochenrückblick (AT)"),  # the regional variant first
        ("de-CH,de;q=0.9", DIGEST_DE),  # none for Switzerland: German
        ("de", DIGEST_DE),
        ("fr-FR,fr;q=0.9", "Weekly digest"),  # no French: Courier's own
    ],
)
def test_a_regional_variant_falls_back_to_its_language_then_to_courier(
    app_with_file, emulator, accept, shown
):
    give_topic_data(emulator, translations(**{"de-AT": {"name": "Wochenrückblick (AT)"}}))
    app = app_with_file({"de": {"topics": {seed.TOPIC_DIGEST: {"name": DIGEST_DE}}}})
    client = app.test_client()
    token = app.extensions["prefcenter"].links.make(_claims(Purpose.MANAGE))  # no locale
    client.get(f"/l/{token}")
    text = page_text(client, headers={"Accept-Language": accept})
    assert shown in text
    others = {"Wochenrückblick (AT)", DIGEST_DE, "Weekly digest"} - {shown}
    assert not any(other in text for other in others)


@pytest.mark.parametrize(
    "topic_data",
    [
        {"translations": "Wochenüberblick"},
        {"translations": {"de": "Wochenüberblick"}},
        {"translations": {"de": {"name": 7, "description": ["x"]}}},
        {"translations": {"not a tag!": {"name": "x"}}},
        {"team": "labs"},
    ],
)
def test_topic_data_in_another_shape_leaves_courier_s_name(app, emulator, topic_data):
    give_topic_data(emulator, topic_data)
    text = page_text(german_client(app))
    assert "Weekly digest" in text


def test_a_hostile_translated_name_is_shown_as_text(app, emulator):
    give_topic_data(emulator, translations(de={"name": HOSTILE, "description": "<b>bold</b>"}))
    client = german_client(app)
    html = client.get("/").get_data(as_text=True)
    assert "<img" not in html and "<b>bold" not in html
    assert "&lt;img src=x onerror=" in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert HOSTILE in text_of(html)
    # The autosave answer is JSON the page's script shows as text; it carries the name as is.
    form = HtmlForm.parse(html)
    form.set(f"t_{seed.TOPIC_DIGEST}-status", "OPTED_IN", True)
    body = client.post("/", data=form.submission(), headers=JSON).get_json()
    assert HOSTILE in body["saved"][0]["message"]


# Every flow that names a topic.


@pytest.fixture
def german_digest(emulator):
    give_topic_data(emulator, translations(de={"name": DIGEST_DE, "description": DIGEST_DE_ABOUT}))


def recorded_names(audit_path) -> list[str]:
    return [json.loads(line)["topic_name"] for line in audit_path.read_text().splitlines()]


def test_a_save_speaks_of_the_translated_name_and_records_courier_s(app, german_digest, audit_path):
    client = german_client(app)
    form = HtmlForm.parse(client.get("/").get_data(as_text=True))
    form.set(f"t_{seed.TOPIC_DIGEST}-status", "OPTED_IN", True)
    saved = client.post("/", data=form.submission(), follow_redirects=True)
    assert saved.status_code == 200
    notice = text_of(saved.get_data(as_text=True).split('role="status"')[1].split("</div>")[0])
    assert DIGEST_DE in notice
    assert recorded_names(audit_path) == ["Weekly digest"]


def test_autosave_speaks_of_the_translated_name(app, german_digest, audit_path):
    client = german_client(app)
    form = HtmlForm.parse(client.get("/").get_data(as_text=True))
    form.set(f"t_{seed.TOPIC_DIGEST}-status", "OPTED_IN", True)
    body = client.post("/", data=form.submission(), headers=JSON).get_json()
    assert [s["topic_id"] for s in body["saved"]] == [seed.TOPIC_DIGEST]
    assert DIGEST_DE in body["saved"][0]["message"]
    assert recorded_names(audit_path) == ["Weekly digest"]


def test_unsubscribe_pages_and_their_result_show_the_translated_name(
    app, mint, german_digest, audit_path, courier_state
):
    courier_state.store.set_user_preference(USER, seed.TOPIC_DIGEST, _on())
    link = f"/u/{mint(USER, Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_DIGEST, locale='de')}"
    browser = app.test_client()
    page = browser.get(link)
    assert DIGEST_DE in text_of(page.get_data(as_text=True))
    form = HtmlForm.parse(page.get_data(as_text=True))
    result = browser.post(form.action, data=form.submission())
    assert result.status_code == 200
    assert DIGEST_DE in text_of(result.get_data(as_text=True))
    # A mail provider's one-click answer, too.
    courier_state.store.set_user_preference(USER, seed.TOPIC_DIGEST, _on())
    one_click = app.test_client(use_cookies=False).post(
        link, data={"List-Unsubscribe": "One-Click"}
    )
    assert DIGEST_DE in text_of(one_click.get_data(as_text=True))
    assert recorded_names(audit_path) == ["Weekly digest", "Weekly digest"]


def test_an_unsubscribe_page_keeps_working_while_the_catalog_cannot_be_read(
    app_with_file, mint, faulty
):
    from faults import Fault

    app = app_with_file({"de": {"topics": {seed.TOPIC_DIGEST: {"name": DIGEST_DE}}}})
    faulty.faults.append(Fault("GET", r"/preferences/sections", status=503))
    link = f"/u/{mint(USER, Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_DIGEST, locale='de')}"
    page = app.test_client().get(link)
    assert page.status_code == 200
    assert DIGEST_DE in text_of(page.get_data(as_text=True))  # from the file


def test_unsubscribe_from_everything_names_the_translated_topics(app, german_digest, courier_state):
    courier_state.store.set_user_preference(USER, seed.TOPIC_DIGEST, _on())
    client = german_client(app)
    asked = client.get("/unsubscribe-all")
    assert DIGEST_DE in text_of(asked.get_data(as_text=True))
    form = HtmlForm.parse(asked.get_data(as_text=True))
    result = client.post(form.action, data=form.submission(), follow_redirects=True)
    assert result.status_code == 200
    assert DIGEST_DE in text_of(result.get_data(as_text=True))
    undo = HtmlForm.parse(result.get_data(as_text=True))
    undone = client.post(undo.action, data=undo.submission(), follow_redirects=True)
    assert DIGEST_DE in text_of(undone.get_data(as_text=True))


def test_recent_changes_name_the_translated_topic(app, german_digest, courier):
    from prefcenter.courier import PreferenceStatus, PreferenceUpdate

    # The product's backend turns the digest on through Courier's API.
    courier.put_preference(USER, seed.TOPIC_DIGEST, PreferenceUpdate(PreferenceStatus.OPTED_IN))
    history = page_text(german_client(app), "/history")
    assert DIGEST_DE in history and "Weekly digest" not in history


def test_a_preview_shows_the_translated_names(app, german_digest):
    token = app.extensions["prefcenter"].links.make(_claims(Purpose.PREVIEW, locale="de"))
    assert DIGEST_DE in page_text(app.test_client(), f"/preview/{token}")


def test_translated_names_cost_no_courier_read(app, german_digest, courier_state):
    client = german_client(app)
    client.get("/")
    courier_state.clear_requests()
    assert DIGEST_DE in page_text(client)
    assert [(r.method, r.path) for r in courier_state.requests] == [
        ("GET", f"/users/{USER}/preferences")
    ]


def _on():
    from prefcenter.emulator.models import PreferenceWrite

    return PreferenceWrite("OPTED_IN", False, ())


# The file is checked when the app starts.


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "is not UTF-8 JSON"),
        ("[]", "must hold a JSON object"),
        ({"deutsch!": {}}, "not a language tag"),
        ({"de": {"topics": {}}, "DE": {}}, "given twice"),
        ({"de": []}, "must be an object of sections and topics"),
        ({"de": {"topcis": {}}}, "unknown topcis"),
        ({"de": {"topics": []}}, "must be an object by topic id"),
        ({"de": {"topics": {"pt_x": "Name"}}}, "must be an object with a name"),
        ({"de": {"topics": {"pt_x": {"title": "Name"}}}}, "unknown title"),
        ({"de": {"topics": {"pt_x": {"name": ""}}}}, "name must be non-empty text"),
        ({"de": {"sections": {"s": {"description": 3}}}}, "description must be non-empty text"),
        ({"de": {"topics": {"pt_x": {}}}}, "give a name, a description or both"),
    ],
)
def test_a_bad_translations_file_stops_the_app_at_start(
    app_config, courier, translations_file, content, message
):
    path = translations_file(content)
    with pytest.raises(ConfigError) as refused:
        create_app({**app_config, "CATALOG_TRANSLATIONS_PATH": path}, courier=courier, environ={})
    assert "PREFCENTER_CATALOG_TRANSLATIONS_PATH" in str(refused.value)
    assert message in str(refused.value)


def test_a_server_with_a_bad_file_exits_saying_why(monkeypatch, capsys, translations_file):
    monkeypatch.setenv("PREFCENTER_CATALOG_TRANSLATIONS_PATH", translations_file({"de": 1}))
    monkeypatch.delenv("COURIER_API_KEY", raising=False)
    with pytest.raises(SystemExit) as stopped:
        check_environment()
    assert stopped.value.code == 2
    line = capsys.readouterr().err.strip()
    assert re.fullmatch(r"prefcenter: PREFCENTER_CATALOG_TRANSLATIONS_PATH .*", line)


def test_a_missing_file_stops_the_app_at_start(app_config, courier, tmp_path):
    missing = str(tmp_path / "nowhere.json")
    with pytest.raises(ConfigError, match="cannot be read"):
        create_app(
            {**app_config, "CATALOG_TRANSLATIONS_PATH": missing}, courier=courier, environ={}
        )


# Courier's side: topic_data travels with the catalog, as Courier's API returns it.


def test_the_catalog_carries_topic_data_as_courier_returns_it(emulator):
    shape = translations(de={"name": DIGEST_DE}, ar={"name": "ملخص أسبوعي"})
    give_topic_data(emulator, shape)
    with courier_client(emulator, api_key=EMULATOR_KEY, strict=True) as sdk:
        sections = sdk.workspace_preferences.list().results
    [digest] = [t for s in sections for t in s.topics if t.id == seed.TOPIC_DIGEST]
    assert digest.topic_data == shape


@pytest.mark.parametrize("topic_data", [None, "text", [1], 3])
def test_a_catalog_topic_without_an_object_of_topic_data_reads_as_empty(topic_data):
    topic = CatalogTopic.from_api({"id": "pt_x", "name": "X", "topic_data": topic_data})
    assert topic.topic_data == {}


def test_the_example_file_translates_the_whole_demo_workspace(app):
    from pathlib import Path

    from prefcenter.platform.catalog_translations import load_catalog_translations

    example = Path(__file__).resolve().parents[1] / "docs" / "catalog-translations.example.json"
    languages = load_catalog_translations(str(example))
    sections = app.extensions["prefcenter"].catalog.sections()
    for code in ("de", "es", "fr", "ar"):
        assert set(languages[code].sections) == {s.id for s in sections}
        assert set(languages[code].topics) == {t.id for s in sections for t in s.topics}
