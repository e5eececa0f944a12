"""The emulator's POST /send, its outbox and the profiles it sends to, through the official SDK
(strict response validation), and the outbox pages a person opens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import courier
import pytest
from courier import Courier
from flask import Flask

from prefcenter.emulator import EmulatorState, seed
from prefcenter.emulator.testing import courier_client, http_client

REQUEST_ID = re.compile(r"1-[0-9a-f]{8}-[0-9a-f]{24}")


@pytest.fixture
def sdk(emu_app: Flask) -> Iterator[Courier]:
    with courier_client(emu_app, strict=True) as client:
        yield client


def test_a_send_to_a_user_is_accepted_and_reaches_their_profile_address(
    sdk: Courier, emu_state: EmulatorState
) -> None:
    sdk.profiles.create("user-7", profile={"email": "seven@example.com", "name": "Seven"})

    sent = sdk.send.message(
        message={
            "to": {"user_id": "user-7", "locale": "de"},
            "template": "FRESH_LINK",
            "data": {"url": "https://prefs.example.com/l/abc"},
            "context": {"tenant_id": "acme"},
        }
    )

    assert REQUEST_ID.fullmatch(sent.request_id)
    [message] = emu_state.store.outbox()
    assert message.id == sent.request_id  # one recipient: the requestId is the message id
    assert (message.user_id, message.tenant_id, message.locale) == ("user-7", "acme", "de")
    assert message.address == "seven@example.com" and message.status == "SENT"
    assert message.template == "FRESH_LINK" and message.content is None
    assert message.data == {"url": "https://prefs.example.com/l/abc"}


def test_send_answers_202_with_the_request_id(emu_app: Flask) -> None:
    with http_client(emu_app) as http:
        response = http.post(
            "/send",
            json={"message": {"to": {"user_id": "u"}, "content": {"title": "t", "body": "b"}}},
        )
    assert response.status_code == 202
    assert list(response.json()) == ["requestId"]


def test_the_demo_person_has_a_profile_with_a_fake_address(sdk: Courier) -> None:
    profile = sdk.profiles.retrieve(seed.DEMO_USER_ID)
    assert profile.profile == {"email": "demo@example.com"}


def test_a_person_without_an_address_is_accepted_then_undeliverable(
    sdk: Courier, emu_state: EmulatorState
) -> None:
    # Courier accepts the send (202) and only then finds no channel to deliver on.
    sent = sdk.send.message(
        message={"to": {"user_id": "nobody"}, "content": {"title": "Hi", "body": "Hello"}}
    )

    [message] = emu_state.store.outbox()
    assert message.id == sent.request_id
    assert (message.address, message.status, message.reason) == (None, "UNROUTABLE", "NO_CHANNELS")
    assert not message.delivered


def test_profiles_merge_replace_read_and_delete(sdk: Courier) -> None:
    assert sdk.profiles.create("p-1", profile={"email": "a@example.com"}).status == "SUCCESS"
    sdk.profiles.create("p-1", profile={"phone_number": "555"})
    assert sdk.profiles.retrieve("p-1").profile == {"email": "a@example.com", "phone_number": "555"}

    assert sdk.profiles.replace("p-1", profile={"email": "b@example.com"}).status == "SUCCESS"
    assert sdk.profiles.retrieve("p-1").profile == {"email": "b@example.com"}

    sdk.profiles.delete("p-1")
    with pytest.raises(courier.NotFoundError):
        sdk.profiles.retrieve("p-1")


REFUSED_SENDS: list[tuple[str, Any, str]] = [
    ("no message", {}, "`message` is required"),
    ("message not an object", {"message": "hi"}, "`message` is required"),
    ("no recipient", {"message": {"template": "T"}}, "`message.to` is required"),
    ("empty recipient list", {"message": {"to": [], "template": "T"}}, "at least one"),
    ("recipient names no one", {"message": {"to": {}, "template": "T"}}, "`user_id` or `email`"),
    ("user id not a string", {"message": {"to": {"user_id": 7}, "template": "T"}}, "string"),
    ("neither template nor content", {"message": {"to": {"user_id": "u"}}}, "either"),
    (
        "template and content",
        {
            "message": {
                "to": {"user_id": "u"},
                "template": "T",
                "content": {"title": "t", "body": "b"},
            }
        },
        "not both",
    ),
    ("empty template", {"message": {"to": {"user_id": "u"}, "template": " "}}, "template"),
    (
        "content without a body",
        {"message": {"to": {"user_id": "u"}, "content": {"title": "t"}}},
        "content.body",
    ),
    (
        "data not an object",
        {"message": {"to": {"user_id": "u"}, "template": "T", "data": ["x"]}},
        "data",
    ),
    (
        "routing without a method",
        {"message": {"to": {"user_id": "u"}, "template": "T", "routing": {"channels": []}}},
        "routing.method",
    ),
]


@pytest.mark.parametrize(
    ("body", "message"),
    [(body, message) for _, body, message in REFUSED_SENDS],
    ids=[name for name, _, _ in REFUSED_SENDS],
)
def test_a_send_courier_would_refuse_is_a_clear_400_and_sends_nothing(
    emu_app: Flask, emu_state: EmulatorState, body: Any, message: str
) -> None:
    with http_client(emu_app) as http:
        response = http.post("/send", json=body)
    assert response.status_code == 400
    assert response.json()["type"] == "invalid_request_error"
    assert message in response.json()["message"]
    assert emu_state.store.outbox() == []


def test_a_send_without_the_api_key_is_refused(emu_app: Flask, emu_state: EmulatorState) -> None:
    with http_client(emu_app, api_key=None) as http:
        response = http.post("/send", json={"message": {"to": {"user_id": "u"}, "template": "T"}})
    assert response.status_code == 401
    assert emu_state.store.outbox() == []


def test_a_retried_send_with_its_idempotency_key_is_sent_once(
    sdk: Courier, emu_state: EmulatorState
) -> None:
    message: Any = {"to": {"user_id": seed.DEMO_USER_ID}, "template": "T"}
    first = sdk.send.message(message=message, idempotency_key="send-1")
    again = sdk.send.message(message=message, idempotency_key="send-1")

    assert again.request_id == first.request_id
    assert len(emu_state.store.outbox()) == 1


def test_the_outbox_pages_show_each_message_with_its_links(
    sdk: Courier, emu_app: Flask, emu_state: EmulatorState
) -> None:
    sent = sdk.send.message(
        message={
            "to": {"user_id": seed.DEMO_USER_ID},
            "content": {"title": "Your new link", "body": "Open https://prefs.example.com/l/t1"},
        }
    )
    emu_state.clear_requests()
    page = emu_app.test_client()  # a browser: no API key

    listing = page.get("/outbox")
    message = page.get(f"/outbox/{sent.request_id}")

    assert listing.status_code == 200 and "Your new link" in listing.get_data(as_text=True)
    html = message.get_data(as_text=True)
    assert message.status_code == 200
    assert "demo@example.com" in html
    assert '<a href="https://prefs.example.com/l/t1">' in html
    assert message.headers["Cache-Control"] == "no-store"
    assert page.get("/outbox/1-00000000-000000000000000000000000").status_code == 404
    # The pages are not Courier's API: they stay out of its request log, and open nothing else.
    assert emu_state.requests == []
    assert page.get(f"/profiles/{seed.DEMO_USER_ID}").status_code == 401
