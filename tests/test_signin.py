"""Signing in by link, identity only from the session, tenant context, and the link command."""

from __future__ import annotations

import time

from prefcenter.emulator import seed
from prefcenter.forms import field_key
from prefcenter.links import LinkClaims, LinkSigner, Purpose

from htmlform import HtmlForm, text_of

STATUS = f"{field_key(seed.TOPIC_DIGEST)}-status"


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


def test_a_new_link_replaces_the_previous_person(client, mint, courier_state):
    client.get(f"/l/{mint('user-a')}")
    client.get(f"/l/{mint('user-b')}")
    courier_state.clear_requests()
    client.get("/")
    assert [
        r.path for r in courier_state.requests if r.method == "GET" and "/users/" in r.path
    ] == ["/users/user-b/preferences"]


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
    client.get(f"/l/{mint('user-b')}")
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
    assert "cannot be combined" in result.output
