"""Languages: complete catalogs, pages entirely in each language, how the language is chosen."""

from __future__ import annotations

import html as htmllib
import re
import time
from pathlib import Path

import jwt
import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from prefcenter.access.links import LinkClaims, LinkSigner, Purpose
from prefcenter.emulator import seed
from prefcenter.page.forms import field_key
from prefcenter.platform.i18n import LANGUAGES, RIGHT_TO_LEFT

from htmlform import HtmlForm, text_of

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "prefcenter" / "translations"
POT = TRANSLATIONS / "messages.pot"
# The README's extract command ("Languages"), run from the repository root.
EXTRACT = "pybabel -q extract -F babel.cfg -k lazy_gettext -c Translators:".split()
LOCALES = [code for code in LANGUAGES if code != "en"]
USER = "user-1"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")
TAG = re.compile(r"</?[a-z]+\b[^>]*>")


def catalog(path: Path):
    with path.open("rb") as f:
        return read_po(f)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest):
    """The strings marked for translation in the code and templates right now."""
    out = tmp_path_factory.mktemp("i18n") / "messages.pot"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        CommandLineInterface().run([*EXTRACT, "--no-location", "-o", str(out), "."])
    return catalog(out)


def msgids(cat) -> set[object]:
    return {(m.context, m.id) for m in cat if m.id}


def placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


def tags(text: str) -> list[str]:
    return sorted(re.sub(r'="[^"]*"', "", tag) for tag in TAG.findall(text))


# --- The catalogs ----------------------------------------------------------------------------


def test_the_committed_template_lists_exactly_the_marked_strings(extracted):
    """messages.pot is regenerated whenever a string is added, changed or removed (README)."""
    assert msgids(catalog(POT)) == msgids(extracted)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_string_is_translated_with_the_same_placeholders(extracted, locale):
    translated = catalog(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po")
    problems = []
    for message in extracted:
        if not message.id:
            continue
        entry = translated.get(message.id, message.context)
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        if entry is None or entry.fuzzy:
            problems.append(f"missing or fuzzy: {ids[0]!r}")
            continue
        forms = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        expected = set().union(*(placeholders(i) for i in ids))
        for form in forms:
            # A plural form may leave out the count (Arabic's "one" and "two" forms).
            found = placeholders(form)
            if not form or not (expected - {"num"} <= found <= expected):
                problems.append(f"{ids[0]!r} -> {form!r}")
            elif tags(form) != tags(ids[0]):
                problems.append(f"markup differs: {ids[0]!r} -> {form!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_compiled_catalog_matches_its_source(locale):
    """The .mo files are committed; run `pybabel compile` after editing a .po (README)."""
    folder = TRANSLATIONS / locale / "LC_MESSAGES"

    def entries(messages) -> dict[object, object]:
        def frozen(value: object) -> object:
            return tuple(value) if isinstance(value, list | tuple) else value

        def text(value: object) -> object:  # read_mo gives the context as bytes
            return value.decode() if isinstance(value, bytes) else value

        return {(text(m.context), frozen(m.id)): frozen(m.string) for m in messages if m.id}

    with (folder / "messages.mo").open("rb") as f:
        compiled = entries(read_mo(f))
    assert compiled == entries(catalog(folder / "messages.po"))


# --- Every page in each language -------------------------------------------------------------


def english_fragments() -> list[str]:
    """Runs of three or more English words from the UI strings (not catalog data)."""
    fragments = set()
    for message in catalog(POT):
        for text in message.id if isinstance(message.id, tuple) else (message.id,):
            for piece in PLACEHOLDER.split(TAG.sub("|", text or "")):
                for part in (piece or "").split("|"):
                    if len(part.split()) >= 3:
                        fragments.add(part.strip())
    return sorted(fragments)


ENGLISH = english_fragments()


def assert_speaks(response, locale: str) -> str:
    """The page declares `locale` and shows (and says to assistive tech) no English UI text."""
    page = response.get_data(as_text=True)
    direction = "rtl" if locale in RIGHT_TO_LEFT else "ltr"
    assert f'<html lang="{locale}" dir="{direction}">' in page
    text = text_of(page)
    everything = htmllib.unescape(page)  # attributes too: aria-label, data-* messages
    left = [fragment for fragment in ENGLISH if fragment in text or fragment in everything]
    assert not left, f"English on the {locale} page: {left}"
    return text


def tr(locale: str, message: str, **values: str) -> str:
    """`message` in `locale`, from the compiled catalog, with whitespace folded as text_of does
    (French puts no-break spaces before colons)."""
    translated = Translations.load(str(TRANSLATIONS), [locale]).gettext(message) % values
    return re.sub(r"\s+", " ", translated)


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


@pytest.fixture
def expired_link(app):
    def make(purpose: Purpose, **claims: str) -> str:
        signer = LinkSigner(app.config["LINK_SIGNING_KEYS"], {purpose: 60})
        return signer.make(LinkClaims(USER, purpose, **claims), now=time.time() - 3600)

    return make


@pytest.mark.parametrize("locale", LOCALES)
def test_the_preferences_page_save_errors_and_unsubscribe_all_speak_the_links_language(
    client, mint, locale
):
    assert client.get(f"/l/{mint(USER, locale=locale)}").status_code == 302
    page = client.get("/")
    text = assert_speaks(page, locale)
    assert tr(locale, "Save preferences") in text and "Email" not in text.split()

    # A validation error, next to the field and in the summary.
    form = HtmlForm.parse(page.get_data(as_text=True))
    comments = f"{field_key(seed.TOPIC_COMMENTS)}-channels"
    for channel in ("email", "push", "inbox"):
        form.set(comments, channel, False)
    refused = client.post("/", data=form.submission())
    assert refused.status_code == 400
    text = assert_speaks(refused, locale)
    message = "Choose at least one channel for %(topic)s, or turn it off."
    assert tr(locale, message, topic="Comments and mentions") in text

    # The confirmation after a save.
    form = HtmlForm.parse(page.get_data(as_text=True))
    form.set(f"{field_key(seed.TOPIC_DIGEST)}-status", "OPTED_IN", True)
    saved = client.post("/", data=form.submission(), follow_redirects=True)
    text = assert_speaks(saved, locale)
    assert tr(locale, "%(topic)s: turned on.", topic="Weekly digest") in text

    # Unsubscribe from everything, and its undo.
    html = client.get("/").get_data(as_text=True)
    done = client.post(
        "/unsubscribe-all", data={"csrf_token": csrf_of(html)}, follow_redirects=True
    )
    assert done.status_code == 200
    assert_speaks(done, locale)
    undo = HtmlForm.parse(done.get_data(as_text=True))
    assert_speaks(client.post(undo.action, data=undo.submission(), follow_redirects=True), locale)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_unsubscribe_flow_speaks_the_links_language(app, mint, locale):
    mail = app.test_client(use_cookies=False)
    link = f"/u/{mint(USER, Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_COMMENTS, locale=locale)}"

    confirm = mail.get(link)
    text = assert_speaks(confirm, locale)
    assert tr(locale, "Unsubscribe from “%(topic)s”?", topic="Comments and mentions") in text
    button = HtmlForm.parse(confirm.get_data(as_text=True))  # the page's Unsubscribe
    done = mail.post(button.action, data=button.submission())
    assert tr(locale, "You are unsubscribed") in assert_speaks(done, locale)
    again = mail.get(link)  # already unsubscribed
    assert tr(locale, "You are already unsubscribed") in assert_speaks(again, locale)
    undo = HtmlForm.parse(done.get_data(as_text=True))
    undone = mail.post(undo.action, data=undo.submission())
    assert tr(locale, "You are subscribed again") in assert_speaks(undone, locale)

    required = mail.get(
        f"/u/{mint(USER, Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_SECURITY, locale=locale)}"
    )
    message = "“%(topic)s” can’t be turned off"
    assert tr(locale, message, topic="Security alerts") in assert_speaks(required, locale)
    gone = mail.get(f"/u/{mint(USER, Purpose.UNSUBSCRIBE, topic_id='pt_gone', locale=locale)}")
    assert gone.status_code == 404
    assert_speaks(gone, locale)


@pytest.mark.parametrize("locale", LOCALES)
def test_link_error_pages_speak_the_language(client, expired_link, locale):
    # An expired link still names its language (its signature is checked first).
    for purpose, path in ((Purpose.MANAGE, "/l/"), (Purpose.UNSUBSCRIBE, "/u/")):
        response = client.get(path + expired_link(purpose, topic_id="t", locale=locale))
        assert response.status_code == 410
        assert tr(locale, "This link has expired") in assert_speaks(response, locale)
    frame = client.get(f"/e/{expired_link(Purpose.EMBED, locale=locale)}/")
    assert frame.status_code == 410
    assert_speaks(frame, locale)
    # An invalid link names nothing to trust: the browser's language, or the picker's.
    invalid = client.get("/l/nonsense", headers={"Accept-Language": locale})
    assert invalid.status_code == 404
    assert tr(locale, "This link is not valid") in assert_speaks(invalid, locale)
    assert_speaks(client.get(f"/u/nonsense?lang={locale}"), locale)


@pytest.mark.parametrize("locale", LOCALES)
def test_other_pages_speak_the_browsers_language(client, locale):
    accept = {"Accept-Language": f"{locale};q=0.9, en;q=0.5"}
    signed_out = client.get("/", headers=accept)
    assert signed_out.status_code == 401
    assert_speaks(signed_out, locale)
    assert_speaks(client.get("/no-such-page", headers=accept), locale)
    assert_speaks(client.post("/u/token", headers=accept), locale)  # no one-click body
    assert_speaks(client.post("/unsubscribe-all", headers=accept), locale)  # no CSRF token


@pytest.mark.parametrize("locale", LOCALES)
def test_the_embedded_page_speaks_its_tokens_language(app, mint, locale):
    frame = app.test_client(use_cookies=False)
    page = frame.get(f"/e/{mint(USER, Purpose.EMBED, locale=locale)}/")
    assert_speaks(page, locale)
    form = HtmlForm.parse(page.get_data(as_text=True))
    form.set(f"{field_key(seed.TOPIC_DIGEST)}-status", "OPTED_IN", True)
    saved = frame.post(form.action, data=form.submission(), follow_redirects=True)
    assert tr(locale, "%(topic)s: turned on.", topic="Weekly digest") in assert_speaks(
        saved, locale
    )


def test_demo_banner_and_support_footer_are_translated(app_config, courier):
    from prefcenter import create_app

    config = {**app_config, "BRAND_SUPPORT_URL": "https://acme.test/help", "DEMO_MODE": True}
    client = create_app(config, courier=courier, environ={}).test_client()
    for locale in LOCALES:
        response = client.get(f"/?lang={locale}")
        assert "acme.test/help" in response.get_data(as_text=True)
        assert_speaks(response, locale)


# --- How the language is chosen --------------------------------------------------------------


def lang_of(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


def test_english_is_the_default(client, mint):
    client.get(f"/l/{mint(USER)}")
    assert lang_of(client.get("/")) == "en"
    assert 'dir="ltr"' in client.get("/").get_data(as_text=True)


def test_the_browsers_language_is_matched_by_its_primary_subtag(client, mint):
    client.get(f"/l/{mint(USER)}")
    assert lang_of(client.get("/", headers={"Accept-Language": "fr-CA,fr;q=0.8"})) == "fr"
    assert lang_of(client.get("/", headers={"Accept-Language": "de-AT"})) == "de"
    assert lang_of(client.get("/", headers={"Accept-Language": "pt-BR, ja;q=0.5"})) == "en"


def test_the_links_locale_beats_the_browsers_language(client, mint):
    client.get(f"/l/{mint(USER, locale='de')}")
    response = client.get("/", headers={"Accept-Language": "fr"})
    assert lang_of(response) == "de"
    assert response.headers["Content-Language"] == "de"
    assert "Accept-Language" in response.headers["Vary"]  # for caches in front


def test_the_picker_beats_the_browsers_language_and_is_remembered(client, mint):
    client.get(f"/l/{mint(USER)}")
    french = {"Accept-Language": "fr"}
    assert lang_of(client.get("/?lang=es", headers=french)) == "es"
    assert lang_of(client.get("/", headers=french)) == "es"


def test_the_links_locale_beats_a_language_picked_before(client, mint):
    client.get("/?lang=es")
    client.get(f"/l/{mint(USER, locale='de')}")
    assert lang_of(client.get("/")) == "de"
    # A link without a locale keeps what the person picked.
    client.get("/?lang=fr")
    client.get(f"/l/{mint(USER)}")
    assert lang_of(client.get("/")) == "fr"


def test_the_picker_changes_the_language_after_a_link_chose_one(client, mint):
    client.get(f"/l/{mint(USER, locale='de')}")
    assert lang_of(client.get("/?lang=ar")) == "ar"
    assert lang_of(client.get("/")) == "ar"


def test_an_unsubscribe_links_locale_beats_the_session_and_the_browser(client, mint):
    client.get("/?lang=es")
    link = f"/u/{mint(USER, Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_COMMENTS, locale='fr')}"
    assert lang_of(client.get(link, headers={"Accept-Language": "de"})) == "fr"


@pytest.mark.parametrize("value", ["xx", "", "de;drop", "../de", "e" * 300, "EN-gb"])
def test_an_unsupported_choice_is_ignored(client, mint, value):
    client.get(f"/l/{mint(USER, locale='pt')}")  # a link locale we do not speak
    response = client.get("/", query_string={"lang": value}, headers={"Accept-Language": "es"})
    assert response.status_code == 200
    assert lang_of(response) == ("en" if value == "EN-gb" else "es")


def test_the_picker_is_on_every_page_labelled_and_marks_the_current_language(client, mint):
    client.get(f"/l/{mint(USER, locale='fr')}")
    html = client.get("/").get_data(as_text=True)
    nav = re.search(r'<nav class="language-picker" aria-label="Langue">(.*?)</nav>', html, re.S)
    links = re.findall(
        r'<a href="([^"]+)" lang="(\w+)" hreflang="\w+"( aria-current="true")?', nav[1]
    )
    assert [code for _href, code, _current in links] == list(LANGUAGES)
    assert [code for _href, code, current in links if current] == ["fr"]
    assert {href for href, _code, _current in links} == {f"/?lang={code}" for code in LANGUAGES}


def test_after_a_post_the_picker_links_to_a_page_that_can_be_fetched(client, mint, app):
    client.get(f"/l/{mint(USER)}")
    page = client.get("/").get_data(as_text=True)
    done = client.post(
        "/unsubscribe-all", data={"csrf_token": csrf_of(page)}, follow_redirects=True
    ).get_data(as_text=True)
    picked = re.search(r'href="(/unsubscribe-all/done/[^"?]+\?lang=de)"', done)[1]
    assert 'name="undo"' in client.get(picked).get_data(as_text=True)  # the result, again
    mail = app.test_client(use_cookies=False)
    token = mint(USER, Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_COMMENTS)
    undone = mail.post(f"/u/{token}/undo").get_data(as_text=True)
    assert f'href="/u/{token}?lang=de"' in undone


def test_a_language_picked_on_an_unsubscribe_page_is_kept_without_a_cookie(app, mint):
    mail = app.test_client(use_cookies=False)
    token = mint(USER, Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_COMMENTS, locale="de")
    response = mail.get(f"/u/{token}?lang=es")
    assert lang_of(response) == "es" and "Set-Cookie" not in response.headers
    html = response.get_data(as_text=True)
    assert f'action="/u/{token}?lang=es"' in html
    button = HtmlForm.parse(html)
    done = mail.post(button.action, data=button.submission())
    assert lang_of(done) == "es"
    assert f'action="/u/{token}/undo?lang=es"' in done.get_data(as_text=True)
    # "Manage all your preferences" signs in speaking the same language.
    assert f'action="/u/{token}/manage?lang=es"' in html
    browser = app.test_client()
    assert browser.post(f"/u/{token}/manage?lang=es").status_code == 303
    assert lang_of(browser.get("/")) == "es"


def test_a_language_picked_in_a_frame_travels_in_its_token(app, mint):
    frame = app.test_client(use_cookies=False)
    page = frame.get(f"/e/{mint(USER, Purpose.EMBED, locale='de')}/?lang=fr")
    assert lang_of(page) == "fr" and "Set-Cookie" not in page.headers
    action = HtmlForm.parse(page.get_data(as_text=True)).action
    token = action.split("/")[2]
    assert jwt.decode(token, options={"verify_signature": False})["locale"] == "fr"
    # The next page, with no `lang` in its address, still speaks French.
    assert lang_of(frame.get(f"/e/{token}/")) == "fr"


# --- Right to left ---------------------------------------------------------------------------


def test_arabic_pages_are_right_to_left(client):
    html = client.get("/?lang=ar").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html


def test_the_stylesheet_mirrors_for_right_to_left(client):
    """Logical properties only, so a right-to-left page is the mirror image of a left-to-right
    one; the switch's knob slides the other way."""
    response = client.get("/static/style.css")
    css = re.sub(r"/\*.*?\*/", "", response.get_data(as_text=True), flags=re.S)
    response.close()
    physical = re.findall(r"[^-\w](?:(?:margin|padding|border)-(?:left|right)|left|right)\s*:", css)
    assert not physical
    assert re.search(r'\[dir="rtl"\] \.switch:checked::before \{ transform: translateX\(-', css)


def test_names_in_a_list_are_isolated_so_latin_names_stay_apart_in_arabic(app):
    """Topic names come from Courier as they are, often English: each one in its own <bdi>,
    escaped, joined by the language's separator; a channel phrase stays plain text (the page's
    script shows it as text)."""
    from prefcenter.platform.i18n import and_list, join_names

    with app.test_request_context("/?lang=ar"):
        joined = join_names(["Product updates", "Q&A <digest>"])
        assert str(joined) == "<bdi>Product updates</bdi>، <bdi>Q&amp;A &lt;digest&gt;</bdi>"
        rendered = app.jinja_env.from_string(
            '{{ ngettext("Turned off: %(topics)s.", "Turned off: %(topics)s.", 2,'
            " topics=names | join_names) }}"
        ).render(names=["A<b>", "C"])
        assert "<bdi>A&lt;b&gt;</bdi>، <bdi>C</bdi>" in rendered
        assert "<" not in and_list(["Email", "Webhook"])


def test_the_arabic_plural_forms_are_in_the_standard_order():
    """[4] is 11-99 and [5] is 100-102, as CLDR, GNU gettext and Babel have them."""
    import gettext

    from babel.messages.plurals import get_plural

    ours = gettext.c2py(catalog(TRANSLATIONS / "ar" / "LC_MESSAGES" / "messages.po").plural_expr)
    standard = gettext.c2py(get_plural("ar").plural_expr)
    assert [ours(n) for n in range(1000)] == [standard(n) for n in range(1000)]
