"""Email me a new link: an expired link's page sends a fresh manage link through Courier's
POST /send (the emulator's outbox), to the person's own address, answering the same always."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from limits.errors import StorageError

from prefcenter import create_app
from prefcenter.access.guard import token_bound_value
from prefcenter.access.links import LinkClaims, LinkSigner, Purpose
from prefcenter.access.minting import max_ages
from prefcenter.emulator import seed
from prefcenter.platform.person_limits import PersonLimit

from conftest import USER
from faults import Fault
from htmlform import HtmlForm, text_of
from test_shared_limits import redis_url  # noqa: F401  (the shared Redis fixture)

ADDRESS = "one@example.com"
ANSWER = "If we can reach you by email, a new link to your notification preferences is on its way"
URL = re.compile(r"https://prefs\.example\.com/l/[A-Za-z0-9._-]+")
DAY = 24 * 60 * 60


@pytest.fixture(autouse=True)
def profile(courier_state) -> None:
    """The person has an email address in Courier, as people who get our emails do."""
    courier_state.store.merge_profile(USER, {"email": ADDRESS})


@pytest.fixture
def expired(app: Flask) -> Callable[..., str]:
    """A genuine token whose lifetime ended `past` seconds ago (an hour by default)."""

    def make(purpose: Purpose = Purpose.MANAGE, past: float = 3600, **claims: str) -> str:
        if purpose is Purpose.UNSUBSCRIBE:
            claims.setdefault("topic_id", seed.TOPIC_COMMENTS)
        lifetime = max_ages(app.config)[purpose]
        return app.extensions["prefcenter"].links.make(
            LinkClaims(claims.pop("user_id", USER), purpose, **claims),
            now=time.time() - lifetime - past,
        )

    return make


OPENED_AT = {
    Purpose.MANAGE: "/l/{token}",
    Purpose.UNSUBSCRIBE: "/u/{token}",
    Purpose.EMBED: "/e/{token}/",
}


def press_the_button(client: FlaskClient, purpose: Purpose, token: str) -> FlaskClient:
    """Open the expired link, press "Email me a new link"; return the answer page's response."""
    page = client.get(OPENED_AT[purpose].format(token=token))
    assert page.status_code == 410
    html = page.get_data(as_text=True)
    assert 'class="fresh-link"' in html  # "Email me a new link", in the page's language
    form = HtmlForm.parse(html)
    posted = client.post(form.action, data=form.submission())
    assert posted.status_code == 303
    return client.get(posted.headers["Location"])


def sent_urls(courier_state) -> list[str]:
    return [URL.search(m.content["body"]).group() for m in courier_state.store.outbox()]


@pytest.mark.parametrize("purpose", list(OPENED_AT), ids=lambda p: p.value)
def test_an_expired_link_emails_a_fresh_manage_link_that_signs_in(
    app, client, courier_state, expired, purpose
):
    token = expired(purpose)
    courier_state.clear_requests()

    answer = press_the_button(client, purpose, token)

    assert answer.status_code == 200
    assert "Email me a new link" in text_of(
        client.get(OPENED_AT[purpose].format(token=token)).get_data(as_text=True)
    )
    assert ANSWER in text_of(answer.get_data(as_text=True))
    assert ADDRESS not in answer.get_data(as_text=True)
    [message] = courier_state.store.outbox()
    assert (message.user_id, message.address, message.status) == (USER, ADDRESS, "SENT")
    # One Courier call: the send, named by user id only; no read of the person's page.
    [request] = courier_state.requests
    assert (request.method, request.path) == ("POST", "/send")
    assert request.body["message"]["to"] == {"user_id": USER, "locale": "en"}
    assert ADDRESS not in str(request.body)
    # The link in the message signs the person in.
    [url] = sent_urls(courier_state)
    reader = app.test_client()
    opened = reader.get(url.removeprefix("https://prefs.example.com"))
    assert opened.status_code == 302
    page = reader.get("/")
    assert page.status_code == 200 and "Security alerts" in text_of(page.get_data(as_text=True))


def test_the_fresh_link_keeps_the_person_tenant_and_language(app, client, courier_state, expired):
    token = expired(Purpose.MANAGE, tenant_id="acme", locale="de")

    press_the_button(client, Purpose.MANAGE, token)

    [message] = courier_state.store.outbox()
    assert (message.tenant_id, message.locale) == ("acme", "de")
    [url] = sent_urls(courier_state)
    claims = app.extensions["prefcenter"].links.load(url.rsplit("/", 1)[1], Purpose.MANAGE)
    assert (claims.user_id, claims.tenant_id, claims.locale) == (USER, "acme", "de")


def test_built_in_content_speaks_the_links_language(client, courier_state, expired):
    press_the_button(client, Purpose.MANAGE, expired(Purpose.MANAGE))
    press_the_button(client, Purpose.MANAGE, expired(Purpose.MANAGE, locale="de"))

    english, german = reversed(courier_state.store.outbox())
    assert english.content["title"] == "Your new link to your notification preferences"
    assert english.template is None and german.locale == "de"
    # The German text is whatever the catalog says (translations land separately); the
    # request asked for German, and the link and date are in it.
    assert URL.search(german.content["body"])


def test_a_template_from_the_settings_is_used_with_the_link_as_data(
    app_config, courier, courier_state
):
    app = create_app(
        {**app_config, "FRESH_LINK_TEMPLATE": "FRESH_LINK_TEMPLATE_ID"}, courier=courier, environ={}
    )
    lifetime = max_ages(app.config)[Purpose.MANAGE]
    token = app.extensions["prefcenter"].links.make(
        LinkClaims(USER, Purpose.MANAGE, locale="fr"), now=time.time() - lifetime - 60
    )

    press_the_button(app.test_client(), Purpose.MANAGE, token)

    [message] = courier_state.store.outbox()
    assert message.template == "FRESH_LINK_TEMPLATE_ID" and message.content is None
    assert URL.fullmatch(message.data["url"])
    assert message.data["locale"] == "fr" and message.locale == "fr"
    assert message.data["expires_at"].startswith(str(time.gmtime().tm_year))


def post_new_link(client: FlaskClient, app: Flask, path: str, token: str, csrf: str | None = None):
    with app.test_request_context():
        value = token_bound_value("fresh-link-csrf", token) if csrf is None else csrf
    return client.post(f"{path}/{token}/new-link", data={"csrf_token": value})


NOT_GENUINE = {
    "tampered": lambda token: token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"),
    "signed with another key": lambda token: LinkSigner(
        ["another-key-" + "x" * 40], {Purpose.MANAGE: 30 * DAY}
    ).make(LinkClaims(USER, Purpose.MANAGE), now=time.time() - 31 * DAY),
    "not a token": lambda token: "not-a-token",
}


@pytest.mark.parametrize("make_token", NOT_GENUINE.values(), ids=list(NOT_GENUINE))
def test_a_link_that_is_not_genuine_gets_the_same_answer_and_sends_nothing(
    app, client, courier_state, expired, make_token
):
    token = make_token(expired(Purpose.MANAGE))

    posted = post_new_link(client, app, "/l", token)

    assert posted.status_code == 303
    answer = client.get(posted.headers["Location"])
    assert ANSWER in text_of(answer.get_data(as_text=True))
    assert courier_state.store.outbox() == []
    assert courier_state.count("POST", "/send") == 0


def test_a_link_for_another_purpose_sends_nothing(app, client, courier_state, expired):
    # A manage token posted where unsubscribe links ask: its audience is wrong there.
    posted = post_new_link(client, app, "/u", expired(Purpose.MANAGE))
    assert posted.status_code == 303
    assert courier_state.store.outbox() == []


def test_a_link_long_past_its_expiry_sends_nothing(app, client, courier_state, expired):
    posted = post_new_link(client, app, "/l", expired(Purpose.MANAGE, past=91 * DAY))
    assert posted.status_code == 303
    assert courier_state.store.outbox() == []
    post_new_link(client, app, "/l", expired(Purpose.MANAGE, past=89 * DAY))
    assert len(courier_state.store.outbox()) == 1


def test_at_most_three_a_person_an_hour_whichever_link_and_address(app, courier_state, expired):
    answers = []
    for n in range(4):
        # Four different links of the same person, from four addresses.
        client = app.test_client()
        token = expired(Purpose.MANAGE, past=60 + n)
        posted = client.post(
            f"/l/{token}/new-link",
            data={"csrf_token": _csrf(app, token)},
            environ_base={"REMOTE_ADDR": f"192.0.2.{n + 1}"},
        )
        answers.append(text_of(client.get(posted.headers["Location"]).get_data(as_text=True)))

    assert len(courier_state.store.outbox()) == 3
    assert len(set(answers)) == 1 and ANSWER in answers[0]
    # Someone else is not held back by this person's limit.
    post_new_link(app.test_client(), app, "/l", expired(Purpose.MANAGE, user_id="user-2"))
    assert len(courier_state.store.outbox()) == 4


def test_the_same_person_in_another_tenant_counts_apart(app, courier_state, expired):
    for tenant in (None, None, None, "acme"):
        claims = {"tenant_id": tenant} if tenant else {}
        post_new_link(app.test_client(), app, "/l", expired(Purpose.MANAGE, **claims))
    assert len(courier_state.store.outbox()) == 4


def test_too_many_requests_from_one_address_answer_the_same(
    app_config, courier, courier_state, expired
):
    app = create_app({**app_config, "RATE_LIMIT_FRESH_LINK": "2 per hour"}, courier=courier)
    lifetime = max_ages(app.config)[Purpose.MANAGE]
    statuses = []
    for n in range(3):
        token = app.extensions["prefcenter"].links.make(
            LinkClaims(f"user-{n}", Purpose.MANAGE), now=time.time() - lifetime - 60
        )
        statuses.append(post_new_link(app.test_client(), app, "/l", token).status_code)
    assert statuses == [303, 303, 303]
    assert len(courier_state.store.outbox()) == 2


@pytest.mark.parametrize(
    "csrf", ["", "0" * 64, "value-for-another-token"], ids=["missing", "forged", "other token"]
)
def test_csrf_is_enforced(app, client, courier_state, expired, csrf):
    token = expired(Purpose.MANAGE)
    if csrf == "value-for-another-token":
        csrf = _csrf(app, expired(Purpose.MANAGE, past=7))
    response = post_new_link(client, app, "/l", token, csrf=csrf)
    assert response.status_code == 400
    assert courier_state.store.outbox() == []


def test_courier_failing_gets_the_same_answer_and_is_logged(
    app, client, courier_state, faulty, expired, caplog
):
    faulty.faults.append(Fault("POST", "/send", status=503))
    token = expired(Purpose.MANAGE)

    with caplog.at_level(logging.INFO):
        answer = press_the_button(client, Purpose.MANAGE, token)

    assert answer.status_code == 200 and ANSWER in text_of(answer.get_data(as_text=True))
    assert courier_state.store.outbox() == []
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "new link not sent: Courier failed" in logged
    assert token not in logged and ADDRESS not in logged


def test_courier_retries_with_one_idempotency_key_send_once(
    app, client, courier_state, faulty, expired
):
    # Courier's answer lost once: the retry carries the same key, so the person gets one email.
    faulty.faults.append(Fault("POST", "/send", status=502, times=1))
    press_the_button(client, Purpose.MANAGE, expired(Purpose.MANAGE))
    assert len(courier_state.store.outbox()) == 1


def test_a_person_without_an_address_gets_the_same_answer(app, client, courier_state, expired):
    answer = press_the_button(client, Purpose.MANAGE, expired(Purpose.MANAGE, user_id="no-email"))

    assert ANSWER in text_of(answer.get_data(as_text=True))
    [message] = courier_state.store.outbox()
    assert message.status == "UNROUTABLE" and message.address is None


def test_the_log_names_neither_token_nor_address(client, courier_state, expired, caplog):
    token = expired(Purpose.MANAGE)
    with caplog.at_level(logging.DEBUG):
        press_the_button(client, Purpose.MANAGE, token)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "new link sent by email" in logged
    assert token not in logged and ADDRESS not in logged
    assert courier_state.store.outbox()[0].content["body"] not in logged


def test_the_expired_page_costs_no_courier_call_and_the_send_one(client, courier_state, expired):
    token = expired(Purpose.MANAGE)
    courier_state.clear_requests()
    page = client.get(f"/l/{token}")
    assert page.status_code == 410 and courier_state.requests == []
    form = HtmlForm.parse(page.get_data(as_text=True))
    client.post(form.action, data=form.submission())
    assert [(r.method, r.path) for r in courier_state.requests] == [("POST", "/send")]


def test_an_expired_embedded_page_may_show_the_answer_in_the_host_frame(app_config, courier):
    app = create_app(
        {**app_config, "EMBED_ALLOWED_ORIGINS": ["https://app.example.com"]}, courier=courier
    )
    frame = app.test_client(use_cookies=False)
    lifetime = max_ages(app.config)[Purpose.EMBED]
    token = app.extensions["prefcenter"].links.make(
        LinkClaims(USER, Purpose.EMBED), now=time.time() - lifetime - 60
    )
    answer = press_the_button(frame, Purpose.EMBED, token)
    assert "frame-ancestors https://app.example.com" in answer.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in answer.headers


def test_the_answer_page_in_demo_mode_links_to_the_outbox_message(tmp_path):
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "s" * 40, "PUBLIC_BASE_URL": "https://prefs.example.com"},
        environ={},
        instance_path=tmp_path,
    )
    assert app.config["DEMO_MODE"]
    client = app.test_client()
    lifetime = max_ages(app.config)[Purpose.MANAGE]
    token = app.extensions["prefcenter"].links.make(
        LinkClaims(seed.DEMO_USER_ID, Purpose.MANAGE), now=time.time() - lifetime - 60
    )

    answer = press_the_button(client, Purpose.MANAGE, token)
    html = answer.get_data(as_text=True)
    outbox = re.search(r'href="(/demo/outbox/[^"]+)"', html).group(1)
    message = client.get(outbox)

    assert message.status_code == 200
    text = message.get_data(as_text=True)
    assert seed.DEMO_USER_EMAIL in text
    url = URL.search(text).group()
    assert client.get(url.removeprefix("https://prefs.example.com")).status_code == 302
    assert client.get("/").status_code == 200
    # Only the outbox is served from the emulator: not its API.
    assert client.get("/demo/users/demo-user/preferences").status_code == 404


def _csrf(app: Flask, token: str) -> str:
    with app.test_request_context():
        return token_bound_value("fresh-link-csrf", token)


def test_the_per_person_count_is_shared_by_every_instance_through_redis(
    app_config,
    courier,
    courier_state,
    redis_url,  # noqa: F811 (the fixture imported above)
):
    # Two instances (two processes' worth of state) behind one Redis: one allowance between them.
    shared = {**app_config, "RATELIMIT_STORAGE_URI": redis_url}
    first, second = (create_app(shared, courier=courier, environ={}) for _ in range(2))
    lifetime = max_ages(first.config)[Purpose.MANAGE]
    for n, app in enumerate([first, second, first, second]):
        token = app.extensions["prefcenter"].links.make(
            LinkClaims("shared-user", Purpose.MANAGE), now=time.time() - lifetime - 60 - n
        )
        post_new_link(app.test_client(), app, "/l", token)
    assert len(courier_state.store.outbox()) == 3


def test_with_the_store_unreachable_each_process_still_counts(caplog):
    limit = PersonLimit("3 per hour", "redis://127.0.0.1:1", scope="fresh-link")
    with caplog.at_level(logging.WARNING):
        allowed = [limit.allow("user-1", "") for _ in range(4)]
    assert allowed == [True, True, True, False]
    assert caplog.text.count("rate-limit store unreachable") == 1  # once, not on every hit


def test_an_outage_of_the_store_is_said_once_and_its_end_too(caplog):
    """While the store is down each hit counts locally; the log says so once, and again once
    the store answers, not on every hit (a busy page would flood the log)."""

    class FlakyStore:
        down = True

        def hit(self, *args):
            if self.down:
                raise StorageError(ConnectionError("refused"))
            return True

    limit = PersonLimit("100 per hour", "memory://", scope="fresh-link")
    limit._shared = store = FlakyStore()
    with caplog.at_level(logging.WARNING):
        for _ in range(5):
            assert limit.allow("user-1", "")
        store.down = False
        for _ in range(3):
            assert limit.allow("user-1", "")
    said = [r.getMessage() for r in caplog.records]
    assert sum("unreachable" in m for m in said) == 1
    assert sum("reachable again" in m for m in said) == 1
