"""CourierClient.send_message against the emulator: what reaches POST /send, and its failures."""

from __future__ import annotations

import pytest

from prefcenter.courier import CourierMalformedResponse, CourierRejected, InvalidIdentifier

from faults import Fault


def test_a_message_names_the_person_by_id_only(courier, courier_state):
    courier_state.store.merge_profile("user-1", {"email": "one@example.com"})

    message_id = courier.send_message(
        "user-1",
        content={"title": "Hello", "body": "Hi"},
        data={"url": "https://prefs.example.com/l/x"},
        tenant_id="acme",
        locale="fr",
        channels=("email",),
    )

    [request] = courier_state.requests
    assert request.body == {
        "message": {
            "to": {"user_id": "user-1", "locale": "fr"},
            "content": {"title": "Hello", "body": "Hi"},
            "data": {"url": "https://prefs.example.com/l/x"},
            "context": {"tenant_id": "acme"},
            "routing": {"method": "single", "channels": ["email"]},
        }
    }
    [sent] = courier_state.store.outbox()
    assert sent.id == message_id and sent.address == "one@example.com"


@pytest.mark.parametrize(
    "what", [{}, {"template": "T", "content": {"title": "t", "body": "b"}}], ids=["none", "both"]
)
def test_a_template_or_content_is_needed_not_both(courier, courier_state, what):
    with pytest.raises(ValueError):
        courier.send_message("user-1", **what)
    assert courier_state.requests == []


def test_an_id_no_path_could_carry_is_refused_before_sending(courier, courier_state):
    with pytest.raises(InvalidIdentifier):
        courier.send_message("..", template="T")
    assert courier_state.requests == []


def test_a_refusal_carries_courier_s_message(courier, faulty):
    body = b'{"type": "invalid_request_error", "message": "Template not found"}'
    faulty.faults.append(Fault("POST", "/send", status=400, body=body))
    with pytest.raises(CourierRejected) as refused:
        courier.send_message("user-1", template="MISSING")
    assert refused.value.message == "Template not found"


def test_an_answer_without_a_request_id_is_malformed(courier, faulty):
    faulty.faults.append(Fault("POST", "/send", status=202, body=b'{"ok": true}'))
    with pytest.raises(CourierMalformedResponse):
        courier.send_message("user-1", template="T")
