"""One-click unsubscribe (RFC 8058): POST without cookies opts out; GET never changes a thing."""

from __future__ import annotations

import pytest

from prefcenter.courier import ChannelClassification, PreferenceStatus, PreferenceUpdate
from prefcenter.emulator import seed
from prefcenter.links import Purpose

from htmlform import text_of

USER = "user-1"
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


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


def test_the_button_on_the_page_unsubscribes(app, comments_link, courier_state):
    browser = app.test_client()
    browser.get(comments_link)
    response = browser.post(comments_link, data=ONE_CLICK)
    assert response.status_code == 200
    assert comments(courier_state)["status"] == "OPTED_OUT"


def test_undo_resubscribes_with_the_same_channels(mail_client, comments_link, courier_state):
    mail_client.post(comments_link, data=ONE_CLICK)
    response = mail_client.post(f"{comments_link}/undo")
    assert response.status_code == 200
    assert "You are subscribed again" in text_of(response.get_data(as_text=True))
    assert comments(courier_state)["status"] == "OPTED_IN"
    assert sorted(comments(courier_state)["custom_routing"]) == ["email", "inbox"]


def test_the_page_after_unsubscribing_offers_undo_and_everything_else(
    mail_client, comments_link, client
):
    response = mail_client.post(comments_link, data=ONE_CLICK)
    html = response.get_data(as_text=True)
    assert f'action="{comments_link}/undo"' in html
    manage = html.split("Manage all your notification preferences")[0].rsplit('href="', 1)[1]
    manage = manage.split('"')[0].removeprefix("https://prefs.example.com")
    assert client.get(manage).status_code == 302
    assert "Comments and mentions" in text_of(client.get("/").get_data(as_text=True))


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
    from prefcenter.links import LinkClaims, LinkSigner

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
