"""Signing in by link, identity only from the session, tenant context, and the link command."""

from __future__ import annotations

import re
import time

import pytest

from prefcenter.access.links import LinkClaims, LinkSigner, Purpose
from prefcenter.emulator import seed
from prefcenter.page.forms import field_key

from htmlform import HtmlForm, text_of

STATUS = f"{field_key(seed.TOPIC_DIGEST)}-status"
YEAR = 365 * 24 * 60 * 60


def continue_as(client, token):
    """Open a manage link for someone else than the person signed in, and continue as them."""
    asked = client.get(f"/l/{token}")
    assert asked.status_code == 200
    assert "This link is for someone else" in text_of(asked.get_data(as_text=True))
    form = HtmlForm.parse(asked.get_data(as_text=True))
    assert client.post(f"/l/{token}", data=form.submission()).status_code == 303
    return client


def signed_in_user(client):
    with client.session_transaction() as session:
        return session.get("user_id")


def test_a_link_signs_in_and_leaves_the_address_bar(client, mint):
    response = client.get(f"/l/{mint('user-7')}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/").status_code == 200


def test_an_expired_link_explains_what_to_do(client, app):
    signer = LinkSigner(app.config["LINK_SIGNING_KEYS"], {Purpose.MANAGE: 60})
    token = signer.make(LinkClaims("user-1", Purpose.MANAGE), now=time.time() - 3600)
    response = client.get(f"/l/{token}")
    assert response.status_code == 410
    text = text_of(response.get_data(as_text=True))
    assert "This link has expired" in text and "more recent email" in text
    assert client.get("/").status_code == 401


def test_tampered_and_wrong_purpose_links_are_plainly_not_valid(client, mint):
    token = mint("user-1")
    for bad in (token[:-3] + "abc", mint("user-1", Purpose.UNSUBSCRIBE), "nonsense", "a.b.c"):
        response = client.get(f"/l/{bad}")
        assert response.status_code == 404
        text = text_of(response.get_data(as_text=True))
        assert "This link is not valid" in text
        assert "expired" not in text.lower() and "signature" not in text.lower()
    assert client.get("/").status_code == 401


def test_a_link_for_someone_else_asks_before_replacing_the_person(client, mint, courier_state):
    client.get(f"/l/{mint('user-a')}")
    token = mint("user-b")
    asked = client.get(f"/l/{token}")
    assert asked.status_code == 200
    html = asked.get_data(as_text=True)
    text = text_of(html)
    assert "This link is for someone else" in text
    assert "You are signed in as u…-a on this browser. The link you opened is for u…-b." in text
    assert "user-a" not in html and "user-b" not in html
    # Nothing changed yet: the page still shows user-a.
    assert signed_in_user(client) == "user-a"
    courier_state.clear_requests()
    client.get("/")
    reads = [r.path for r in courier_state.requests if r.method == "GET" and "/users/" in r.path]
    assert reads == ["/users/user-a/preferences"]

    continue_as(client, token)
    courier_state.clear_requests()
    client.get("/")
    reads = [r.path for r in courier_state.requests if r.method == "GET" and "/users/" in r.path]
    assert reads == ["/users/user-b/preferences"]


def test_the_confirmation_keeps_the_token_where_it_already_was(client, mint):
    client.get(f"/l/{mint('user-a')}")
    token = mint("user-b")
    html = client.get(f"/l/{token}").get_data(as_text=True)
    form = HtmlForm.parse(html)
    assert form.action == ""  # posts back to the address the link was opened at
    assert all(token not in control.value for control in form.controls)
    # Where the page names the token at all, it is this page's own address (language picker).
    for place in re.findall(rf"(\S*){re.escape(token)}(\S*)", html):
        assert place[0].endswith('href="/l/') and place[1].startswith("?lang="), place
    # "Stay" goes back to the page of the person signed in.
    assert '<a class="button primary" href="/">Stay signed in as u…-a</a>' in html


def test_continuing_as_someone_else_needs_the_sessions_csrf_value(client, mint, courier_state):
    client.get(f"/l/{mint('user-a')}")
    token = mint("user-b")
    client.get(f"/l/{token}")
    assert client.post(f"/l/{token}").status_code == 400
    assert client.post(f"/l/{token}", data={"csrf_token": "forged"}).status_code == 400
    assert signed_in_user(client) == "user-a"
    # Another site's browser (no session) cannot use the confirmation either.
    stranger = client.application.test_client()
    assert stranger.post(f"/l/{token}").status_code == 400
    assert stranger.get("/").status_code == 401


@pytest.mark.parametrize("tenant", [None, "acme"])
def test_a_link_for_the_same_person_signs_in_without_asking(client, mint, tenant):
    client.get(f"/l/{mint('user-a')}")
    response = client.get(f"/l/{mint('user-a', tenant_id=tenant)}")
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert session["user_id"] == "user-a" and session.get("tenant_id") == tenant


def test_the_page_says_who_is_signed_in_masked(signed_in):
    client = signed_in("alice@example.com")
    html = client.get("/").get_data(as_text=True)
    assert "Signed in as al…com." in text_of(html)
    assert "alice" not in html and "example.com" not in html
    assert '<button type="submit" form="sign-out">Not you? Sign out</button>' in html


def test_signing_out_ends_the_session_and_says_so(signed_in, courier_state):
    client = signed_in()
    html = client.get("/").get_data(as_text=True)
    sign_out = re.search(r'<form id="sign-out" method="post" action="/sign-out">(.*?)</form>', html)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', sign_out[1])[1]
    response = client.post("/sign-out", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["Location"] == "/signed-out"
    page = client.get("/signed-out")
    assert page.status_code == 200
    assert "You are signed out" in text_of(page.get_data(as_text=True))
    assert "Signed in as" not in text_of(page.get_data(as_text=True))
    assert signed_in_user(client) is None
    courier_state.clear_requests()
    assert client.get("/").status_code == 401
    assert courier_state.requests == []


def test_signing_out_needs_the_csrf_value(signed_in):
    client = signed_in()
    client.get("/")
    assert client.post("/sign-out").status_code == 400
    assert signed_in_user(client) == "user-1"


def test_pages_reached_by_a_token_show_no_signed_in_line(signed_in, mint, app):
    client = signed_in()
    unsubscribe = client.get(f"/u/{mint(purpose=Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_DIGEST)}")
    assert "Signed in as" not in text_of(unsubscribe.get_data(as_text=True))
    frame = app.test_client(use_cookies=False).get(f"/e/{mint(purpose=Purpose.EMBED)}/")
    assert "Signed in as" not in text_of(frame.get_data(as_text=True))


@pytest.mark.parametrize("purpose", [Purpose.MANAGE, Purpose.EMBED, Purpose.UNSUBSCRIBE])
def test_a_link_minted_to_live_longer_than_allowed_is_refused(app, courier_state, purpose):
    long_lived = LinkSigner(app.config["LINK_SIGNING_KEYS"], {purpose: 10 * YEAR})
    token = long_lived.make(LinkClaims("user-1", purpose, topic_id=seed.TOPIC_DIGEST))
    browser = app.test_client()
    path = {Purpose.MANAGE: "/l/{}", Purpose.EMBED: "/e/{}/", Purpose.UNSUBSCRIBE: "/u/{}"}
    response = browser.get(path[purpose].format(token))
    assert response.status_code == 404
    assert "This link is not valid" in text_of(response.get_data(as_text=True))
    assert browser.get("/").status_code == 401
    assert courier_state.requests == []


def test_identity_never_comes_from_the_form_or_query(signed_in, courier_state):
    client = signed_in("user-1")
    page = client.get("/?user_id=victim&tenant_id=other")
    form = HtmlForm.parse(page.get_data(as_text=True)).set(STATUS, "OPTED_IN", True)
    courier_state.clear_requests()
    data = form.submission(("user_id", "victim"), ("tenant_id", "other"))
    assert client.post("/?user_id=victim", data=data).status_code == 302
    puts = [r for r in courier_state.requests if r.method == "PUT"]
    assert [r.path for r in puts] == [f"/users/user-1/preferences/{seed.TOPIC_DIGEST}"]
    assert puts[0].query == {}
    assert courier_state.store.user_preference("victim", seed.TOPIC_DIGEST)["status"] == "OPTED_OUT"


def test_the_tenant_in_the_link_scopes_reads_and_writes(signed_in, courier_state):
    client = signed_in("user-1", tenant_id="acme")
    courier_state.clear_requests()
    form = HtmlForm.parse(client.get("/").get_data(as_text=True)).set(STATUS, "OPTED_IN", True)
    assert client.post("/", data=form.submission()).status_code == 302
    reads = [r for r in courier_state.requests if r.method == "GET" and "/users/" in r.path]
    puts = [r for r in courier_state.requests if r.method == "PUT"]
    assert reads[0].query == {"tenant_id": "acme"}
    assert puts[0].query == {"tenant_id": "acme"}
    assert (
        courier_state.store.user_preference("user-1", seed.TOPIC_DIGEST, "acme")["status"]
        == "OPTED_IN"
    )
    # The person's preferences outside that tenant are untouched.
    assert courier_state.store.user_preference("user-1", seed.TOPIC_DIGEST)["status"] == "OPTED_OUT"


def test_a_snapshot_shown_to_one_person_cannot_be_replayed_by_another(client, mint, courier_state):
    client.get(f"/l/{mint('user-a')}")
    form = HtmlForm.parse(client.get("/").get_data(as_text=True)).set(STATUS, "OPTED_IN", True)
    continue_as(client, mint("user-b"))
    courier_state.clear_requests()
    # user-b's session, with user-a's page: the CSRF token still matches (same browser),
    # but the record of the page was made for someone else.
    response = client.post("/", data=form.submission())
    assert response.status_code == 400
    assert courier_state.count("PUT", r".*") == 0


def test_the_link_command_prints_a_working_link(app, client):
    result = app.test_cli_runner().invoke(args=["link", "user-9", "--tenant", "acme"])
    assert result.exit_code == 0, result.output
    link = result.output.strip()
    assert link.startswith("https://prefs.example.com/l/")
    response = client.get(link.removeprefix("https://prefs.example.com"))
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert session["user_id"] == "user-9" and session["tenant_id"] == "acme"


def test_the_link_command_prints_an_embed_url(app):
    result = app.test_cli_runner().invoke(args=["link", "user-9", "--embed"])
    assert result.exit_code == 0, result.output
    url = result.output.strip()
    assert url.startswith("https://prefs.example.com/e/") and url.endswith("/")
    frame = app.test_client(use_cookies=False)
    assert frame.get(url.removeprefix("https://prefs.example.com")).status_code == 200


def test_the_link_command_refuses_two_purposes_at_once(app):
    result = app.test_cli_runner().invoke(args=["link", "u", "--embed", "--unsubscribe", "t"])
    assert result.exit_code != 0
    assert "choose one of --unsubscribe, --embed and --preview" in result.output
