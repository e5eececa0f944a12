"""One-click unsubscribe (RFC 8058): POST without cookies opts out; GET never changes a thing.

Unsubscribe links sit in mail headers that providers, scanners and forwards see: what they open
never carries a link that signs in, and never opts anyone back in without the Undo value issued
with the page's own unsubscribe.
"""

from __future__ import annotations

import json
import re
import time

import jwt
import pytest

from prefcenter.access.links import LinkInvalid, Purpose
from prefcenter.courier import ChannelClassification, PreferenceStatus, PreferenceUpdate
from prefcenter.emulator import seed

from htmlform import HtmlForm, text_of

pytestmark = pytest.mark.consent_file  # consent records in `audit_path`

USER = "user-1"
ONE_CLICK = {"List-Unsubscribe": "One-Click"}
JWT_LIKE = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")


def jwts_in(text: str) -> set[str]:
    """Every JWT in `text` (signed values of ours that are not JWTs have no `alg` header)."""
    found = set()
    for candidate in JWT_LIKE.findall(text):
        try:
            header = jwt.get_unverified_header(candidate)
        except jwt.PyJWTError:
            continue
        if "alg" in header:
            found.add(candidate)
    return found


@pytest.fixture
def mail_client(app):
    """A mail provider's POST: no cookies at all."""
    return app.test_client(use_cookies=False)


@pytest.fixture
def comments_link(mint, courier):
    # The person had picked their channels; unsubscribing must not lose that choice.
    routing = (ChannelClassification.EMAIL, ChannelClassification.INBOX)
    courier.put_preference(
        USER, seed.TOPIC_COMMENTS, PreferenceUpdate(PreferenceStatus.OPTED_IN, True, routing)
    )
    return f"/u/{mint(USER, Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_COMMENTS)}"


def comments(courier_state, tenant_id=None):
    return courier_state.store.user_preference(USER, seed.TOPIC_COMMENTS, tenant_id)


def press_unsubscribe(browser, link):
    """Open the link and press the page's Unsubscribe button, as a person does."""
    form = HtmlForm.parse(browser.get(link).get_data(as_text=True))
    assert form.action == link
    return browser.post(form.action, data=form.submission())


def undo_form(response) -> HtmlForm:
    form = HtmlForm.parse(response.get_data(as_text=True))
    assert form.action.endswith("/undo")
    return form


def vias(audit_path):
    if not audit_path.exists():
        return []
    return [json.loads(line)["via"] for line in audit_path.read_text().splitlines()]


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_one_click_post_opts_out_keeping_routing(
    mail_client, comments_link, courier_state, encoding
):
    courier_state.clear_requests()
    response = mail_client.post(
        comments_link,
        data=ONE_CLICK,
        content_type="multipart/form-data" if encoding == "multipart" else None,
    )
    assert response.status_code == 200
    assert "Location" not in response.headers
    assert "Set-Cookie" not in response.headers
    assert comments(courier_state)["status"] == "OPTED_OUT"
    assert comments(courier_state)["has_custom_routing"] is True
    assert sorted(comments(courier_state)["custom_routing"]) == ["email", "inbox"]
    assert courier_state.count("PUT", r".*") == 1
    assert "You are unsubscribed" in text_of(response.get_data(as_text=True))


def test_a_get_changes_nothing_and_offers_a_button(mail_client, comments_link, courier_state):
    courier_state.clear_requests()
    for _ in range(3):  # a mail scanner, then the person, then a prefetch
        response = mail_client.get(comments_link)
        assert response.status_code == 200
    assert courier_state.count("PUT", r".*") == 0
    assert comments(courier_state)["status"] == "OPTED_IN"
    html = response.get_data(as_text=True)
    text = text_of(html)
    assert "Unsubscribe from “Comments and mentions”?" in text
    assert 'name="List-Unsubscribe" value="One-Click"' in html
    assert "Manage all your notification preferences" in text


def test_the_button_on_the_page_unsubscribes(app, comments_link, courier_state, audit_path):
    response = press_unsubscribe(app.test_client(), comments_link)
    assert response.status_code == 200
    assert comments(courier_state)["status"] == "OPTED_OUT"
    assert vias(audit_path) == ["unsubscribe_page"]


def test_undo_resubscribes_with_the_same_channels(app, comments_link, courier_state, audit_path):
    browser = app.test_client()
    undo = undo_form(press_unsubscribe(browser, comments_link))
    response = browser.post(undo.action, data=undo.submission())
    assert response.status_code == 200
    assert "You are subscribed again" in text_of(response.get_data(as_text=True))
    assert comments(courier_state)["status"] == "OPTED_IN"
    assert sorted(comments(courier_state)["custom_routing"]) == ["email", "inbox"]
    assert vias(audit_path) == ["unsubscribe_page", "unsubscribe_undo"]


def test_the_page_after_unsubscribing_offers_undo_and_everything_else(app, comments_link):
    browser = app.test_client()
    html = press_unsubscribe(browser, comments_link).get_data(as_text=True)
    assert f'action="{comments_link}/undo"' in html
    assert f'<form method="post" action="{comments_link}/manage">' in html
    response = browser.post(f"{comments_link}/manage")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert "Comments and mentions" in text_of(browser.get("/").get_data(as_text=True))


def test_a_required_topic_cannot_be_unsubscribed(mail_client, mint, courier_state):
    link = f"/u/{mint(USER, Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_SECURITY)}"
    courier_state.clear_requests()
    response = mail_client.post(link, data=ONE_CLICK)
    assert response.status_code == 200
    text = text_of(response.get_data(as_text=True))
    assert "can’t be turned off" in text and "required" in text
    assert courier_state.count("PUT", r".*") == 0
    assert "can’t be turned off" in text_of(mail_client.get(link).get_data(as_text=True))


@pytest.mark.parametrize(
    "data",
    [{}, {"List-Unsubscribe": "Now"}, {"unsubscribe": "yes"}],
    ids=["empty", "wrong", "other"],
)
def test_a_post_without_the_one_click_body_changes_nothing(
    mail_client, comments_link, courier_state, data
):
    courier_state.clear_requests()
    response = mail_client.post(comments_link, data=data)
    assert response.status_code == 400
    assert courier_state.count("PUT", r".*") == 0


def test_the_user_and_topic_come_only_from_the_link(mail_client, comments_link, courier_state):
    courier_state.clear_requests()
    response = mail_client.post(
        f"{comments_link}?user_id=victim&topic_id={seed.TOPIC_BILLING}",
        data={**ONE_CLICK, "user_id": "victim", "topic_id": seed.TOPIC_BILLING},
    )
    assert response.status_code == 200
    [put] = [r for r in courier_state.requests if r.method == "PUT"]
    assert put.path == f"/users/{USER}/preferences/{seed.TOPIC_COMMENTS}"


def test_the_tenant_in_the_link_scopes_the_opt_out(mail_client, mint, courier_state):
    link = f"/u/{mint(USER, Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_BILLING, tenant_id='acme')}"
    mail_client.post(link, data=ONE_CLICK)
    billing = courier_state.store.user_preference
    assert billing(USER, seed.TOPIC_BILLING, "acme")["status"] == "OPTED_OUT"
    assert billing(USER, seed.TOPIC_BILLING)["status"] == "OPTED_IN"


def test_bad_links_show_plain_pages(mail_client, mint, courier_state):
    manage_token = mint(USER)  # right signature, wrong purpose
    no_topic = mint(USER, Purpose.UNSUBSCRIBE)
    for token in (manage_token, no_topic, "garbage", manage_token[:-4] + "abcd"):
        for method in (mail_client.get, mail_client.post):
            response = method(f"/u/{token}", data=ONE_CLICK)
            assert response.status_code == 404
            assert "This link is not valid" in text_of(response.get_data(as_text=True))
    assert courier_state.count("PUT", r".*") == 0


def test_an_expired_unsubscribe_link_says_so(app, mail_client):
    from prefcenter.access.links import LinkClaims, LinkSigner

    signer = LinkSigner(app.config["LINK_SIGNING_KEYS"], {Purpose.UNSUBSCRIBE: 60})
    token = signer.make(
        LinkClaims(USER, Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_DIGEST), now=1_000_000
    )
    response = mail_client.post(f"/u/{token}", data=ONE_CLICK)
    assert response.status_code == 410
    assert "This link has expired" in text_of(response.get_data(as_text=True))


def test_a_topic_that_no_longer_exists(mail_client, mint, courier_state):
    link = f"/u/{mint(USER, Purpose.UNSUBSCRIBE, topic_id='pt_retired')}"
    response = mail_client.post(link, data=ONE_CLICK)
    assert response.status_code == 404
    assert "no longer exists" in text_of(response.get_data(as_text=True))
    assert courier_state.count("PUT", r".*") == 0


def test_the_cli_prints_the_url_and_both_email_headers(app, mail_client, courier_state):
    result = app.test_cli_runner().invoke(
        args=["link", USER, "--unsubscribe", seed.TOPIC_DIGEST, "--tenant", "acme"]
    )
    assert result.exit_code == 0, result.output
    url, list_unsubscribe, list_unsubscribe_post = result.output.strip().splitlines()
    assert url.startswith("https://prefs.example.com/u/")
    assert list_unsubscribe == f"List-Unsubscribe: <{url}>"
    assert list_unsubscribe_post == "List-Unsubscribe-Post: List-Unsubscribe=One-Click"
    mail_client.post(url.removeprefix("https://prefs.example.com"), data=ONE_CLICK)
    # Digest defaults to off; opting out still records the person's explicit choice.
    assert (
        courier_state.store.user_preference(USER, seed.TOPIC_DIGEST, "acme")["status"]
        == "OPTED_OUT"
    )


# ---- No sign-in credential in anything an unsubscribe link opens ---------------------------


def reached(app, mint, courier, clock, state):
    """The answer an unsubscribe link gives in `state`, and the link's token."""
    topic = {
        "required": seed.TOPIC_SECURITY,
        "required, one-click": seed.TOPIC_SECURITY,
        "already unsubscribed": seed.TOPIC_DIGEST,
        "gone": "pt_retired",
    }.get(state, seed.TOPIC_COMMENTS)
    token = mint(USER, Purpose.UNSUBSCRIBE, topic_id=topic)
    link = f"/u/{token}"
    mail = app.test_client(use_cookies=False)
    if state in ("confirm", "required", "already unsubscribed", "gone"):
        return mail.get(link), token
    if state in ("one-click answer", "required, one-click"):
        return mail.post(link, data=ONE_CLICK), token
    unsubscribed = press_unsubscribe(mail, link)
    if state == "unsubscribed":
        return unsubscribed, token
    undo = undo_form(unsubscribed)
    if state == "resubscribed":
        return mail.post(undo.action, data=undo.submission()), token
    assert state == "undo refused"
    clock(3601)
    return mail.post(undo.action, data=undo.submission()), token


STATES = [
    "confirm",
    "one-click answer",
    "unsubscribed",
    "resubscribed",
    "required",
    "required, one-click",
    "already unsubscribed",
    "gone",
    "undo refused",
]


@pytest.mark.parametrize("state", STATES)
def test_no_unsubscribe_page_carries_a_sign_in_link(app, mint, courier, clock, state):
    response, token = reached(app, mint, courier, clock, state)
    html = response.get_data(as_text=True)
    headers = "\n".join(f"{name}: {value}" for name, value in response.headers.items())
    assert response.status_code in (200, 400, 404)
    for text in (html, headers):
        assert "/l/" not in text
        # The only token anywhere is the unsubscribe link's own (in its forms' addresses).
        found = jwts_in(text) - {token}
        assert not found, found
    assert "Set-Cookie" not in response.headers
    # "Manage all your notification preferences" is a button posting to the link, no link.
    assert "Manage all your notification preferences" in text_of(html)
    assert not re.search(r'<a [^>]*href="[^"]*/manage', html)
    links = app.extensions["prefcenter"].links
    for candidate in jwts_in(html):
        with pytest.raises(LinkInvalid):
            links.load(candidate, Purpose.MANAGE)


def test_manage_all_starts_a_short_session_marked_as_from_an_unsubscribe_link(
    app, comments_link, courier_state, clock
):
    browser = app.test_client()
    page = browser.get(comments_link).get_data(as_text=True)
    assert f'<form method="post" action="{comments_link}/manage">' in page
    response = browser.post(f"{comments_link}/manage")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    with browser.session_transaction() as session:
        assert session["user_id"] == USER
        assert session["via"] == "unsubscribe_link"
        assert abs(session["ends"] - (time.time() + 15 * 60)) < 5
    courier_state.clear_requests()
    page = browser.get("/")
    assert page.status_code == 200
    assert "Signed in as u…-1." in text_of(page.get_data(as_text=True))
    assert courier_state.count("GET", rf"/users/{USER}/preferences") == 1

    clock(15 * 60 + 1)
    after = browser.get("/")
    assert after.status_code == 401
    assert "Manage preferences" in text_of(after.get_data(as_text=True))


def test_manage_all_keeps_the_session_of_the_same_person(signed_in, comments_link):
    client = signed_in(USER)
    response = client.post(f"{comments_link}/manage")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    with client.session_transaction() as session:
        assert session["via"] == "manage_link" and "ends" not in session


def test_manage_all_is_never_a_get(app, comments_link):
    browser = app.test_client()
    assert browser.get(f"{comments_link}/manage").status_code == 405
    assert browser.get("/").status_code == 401


def test_manage_all_refuses_a_form_on_another_site(app, comments_link):
    browser = app.test_client()
    response = browser.post(f"{comments_link}/manage", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403
    assert "Set-Cookie" not in response.headers
    assert browser.get("/").status_code == 401


def test_manage_all_asks_before_replacing_someone_signed_in(app, mint, comments_link):
    browser = app.test_client()
    browser.get(f"/l/{mint('someone-else')}")
    response = browser.post(f"{comments_link}/manage")
    assert response.status_code == 200
    text = text_of(response.get_data(as_text=True))
    assert "This link is for someone else" in text
    assert "signed in as so…lse" in text and "for u…-1" in text
    with browser.session_transaction() as session:
        assert session["user_id"] == "someone-else"
    # Continuing needs the session's CSRF value, as a form from this page carries.
    assert browser.post(f"{comments_link}/manage", data={"switch": "1"}).status_code == 400
    with browser.session_transaction() as session:
        assert session["user_id"] == "someone-else"
    form = HtmlForm.parse(response.get_data(as_text=True))
    assert form.action == ""  # posts back to where it was shown: /u/<token>/manage
    done = browser.post(f"{comments_link}/manage", data=form.submission())
    assert done.status_code == 303
    with browser.session_transaction() as session:
        assert session["user_id"] == USER and session["via"] == "unsubscribe_link"


# ---- Undo needs the value issued with the page's unsubscribe ----------------------------------


def test_a_mail_providers_one_click_answer_offers_no_undo(mail_client, comments_link, audit_path):
    response = mail_client.post(comments_link, data=ONE_CLICK)
    html = response.get_data(as_text=True)
    assert "You are unsubscribed" in text_of(html)
    assert "/undo" not in html and 'name="undo"' not in html
    assert vias(audit_path) == ["one_click"]


@pytest.mark.parametrize(
    "undo",
    ["missing", "empty", "tampered", "for another topic", "for another person", "expired"],
)
def test_undo_without_its_current_value_is_refused(
    app, mint, comments_link, courier_state, audit_path, clock, undo
):
    browser = app.test_client(use_cookies=False)
    form = undo_form(press_unsubscribe(browser, comments_link))
    value = form.value("undo")
    if undo == "missing":
        data = {}
    elif undo == "empty":
        data = {"undo": ""}
    elif undo == "tampered":
        data = {"undo": value[:-2] + ("AA" if not value.endswith("AA") else "BB")}
    elif undo in ("for another topic", "for another person"):
        other = (
            mint(USER, Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_BILLING)
            if undo == "for another topic"
            else mint("user-2", Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_COMMENTS)
        )
        data = {"undo": undo_form(press_unsubscribe(browser, f"/u/{other}")).value("undo")}
    else:
        clock(60 * 60 + 1)
        data = {"undo": value}
    courier_state.clear_requests()

    response = browser.post(form.action, data=data)

    assert response.status_code == 400
    text = text_of(response.get_data(as_text=True))
    assert "Undo is no longer available" in text and "Nothing was changed" in text
    assert courier_state.count("PUT", r".*") == 0
    assert comments(courier_state)["status"] == "OPTED_OUT"
    assert "unsubscribe_undo" not in vias(audit_path)


def test_undo_works_within_the_hour(app, comments_link, courier_state, clock):
    browser = app.test_client(use_cookies=False)
    form = undo_form(press_unsubscribe(browser, comments_link))
    clock(60 * 60 - 60)
    assert browser.post(form.action, data=form.submission()).status_code == 200
    assert comments(courier_state)["status"] == "OPTED_IN"


def test_an_already_unsubscribed_topic_offers_no_way_back_in_by_the_link_alone(
    mail_client, mint, courier_state
):
    link = f"/u/{mint(USER, Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_DIGEST)}"
    html = mail_client.get(link).get_data(as_text=True)
    assert "You are already unsubscribed" in text_of(html)
    assert "/undo" not in html
    assert "turn them back on in your notification preferences" in text_of(html)
    # Pressing Unsubscribe again (a double click) writes nothing and offers no Undo.
    courier_state.clear_requests()
    again = mail_client.post(link, data=ONE_CLICK).get_data(as_text=True)
    assert "/undo" not in again and courier_state.count("PUT", r".*") == 0


@pytest.mark.parametrize(
    "source, via",
    [
        (None, "one_click"),
        ("page", "one_click"),  # the old unsigned marker says nothing any more
        ("for another link", "one_click"),
        ("the page's own", "unsubscribe_page"),
    ],
)
def test_how_an_unsubscribe_came_is_decided_by_the_server(
    app, mint, comments_link, audit_path, source, via
):
    mail = app.test_client(use_cookies=False)
    data = dict(ONE_CLICK)
    if source == "the page's own":
        data["source"] = HtmlForm.parse(mail.get(comments_link).get_data(as_text=True)).value(
            "source"
        )
    elif source == "for another link":
        other = f"/u/{mint(USER, Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_BILLING)}"
        data["source"] = HtmlForm.parse(mail.get(other).get_data(as_text=True)).value("source")
    elif source is not None:
        data["source"] = source
    response = mail.post(comments_link, data=data)
    assert response.status_code == 200
    assert vias(audit_path) == [via]
    assert ("/undo" in response.get_data(as_text=True)) == (via == "unsubscribe_page")
