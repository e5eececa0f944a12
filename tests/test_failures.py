"""When Courier fails: a clear page, never a traceback, and no choice of the person's lost."""

from __future__ import annotations

import pytest

from prefcenter import create_app
from prefcenter.emulator import seed
from prefcenter.page.forms import field_key

from faults import Fault
from htmlform import HtmlForm, text_of

USER = "user-1"


def status_name(topic_id: str) -> str:
    return f"{field_key(topic_id)}-status"


@pytest.mark.parametrize(
    "fault",
    [
        Fault("GET", r"/users/.*", status=503),
        Fault("GET", r"/users/.*", status=500, body=b"<h1>oops</h1>"),
        Fault("GET", r"/preferences/sections", status=502),
        Fault("GET", r"/users/.*", status=200, body=b"{not json"),
    ],
    ids=["503", "500 html", "catalog 502", "malformed"],
)
def test_a_page_view_with_courier_down_shows_a_retry_page(signed_in, faulty, fault):
    client = signed_in()
    faulty.faults.append(fault)
    response = client.get("/")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    text = text_of(response.get_data(as_text=True))
    assert "can’t load your preferences right now" in text and "Try again" in text
    assert "Traceback" not in text and "injected" not in text


def test_a_partly_failed_save_keeps_every_choice_and_retries_only_what_failed(
    signed_in, faulty, courier_state
):
    client = signed_in()
    form = HtmlForm.parse(client.get("/").get_data(as_text=True))
    form.set(status_name(seed.TOPIC_DIGEST), "OPTED_IN", True)
    form.set(status_name(seed.TOPIC_EVENTS), "OPTED_IN", True)
    faulty.faults.append(Fault("PUT", rf".*/{seed.TOPIC_EVENTS}", status=503))

    response = client.post("/", data=form.submission())

    assert response.status_code == 502
    text = text_of(response.get_data(as_text=True))
    assert "Some changes were not saved" in text
    assert "Events and webinars" in text.split("Some changes were not saved")[1]
    assert "Weekly digest: turned on." in text
    assert courier_state.store.user_preference(USER, seed.TOPIC_DIGEST)["status"] == "OPTED_IN"
    assert courier_state.store.user_preference(USER, seed.TOPIC_EVENTS)["status"] == "OPTED_OUT"
    # Both toggles are still on, as the person left them.
    again = HtmlForm.parse(response.get_data(as_text=True))
    assert again.checkbox(status_name(seed.TOPIC_DIGEST)).checked
    assert again.checkbox(status_name(seed.TOPIC_EVENTS)).checked

    faulty.faults.clear()
    courier_state.clear_requests()
    retried = client.post("/", data=again.submission(), follow_redirects=True)
    assert retried.status_code == 200
    assert [r.path for r in courier_state.requests if r.method == "PUT"] == [
        f"/users/{USER}/preferences/{seed.TOPIC_EVENTS}"
    ]
    assert courier_state.store.user_preference(USER, seed.TOPIC_EVENTS)["status"] == "OPTED_IN"
    assert "Events and webinars: turned on." in text_of(retried.get_data(as_text=True))


def test_a_save_that_courier_refuses_is_reported_not_lost(signed_in, faulty, courier_state):
    client = signed_in()
    form = HtmlForm.parse(client.get("/").get_data(as_text=True))
    form.set(status_name(seed.TOPIC_DIGEST), "OPTED_IN", True)
    faulty.faults.append(
        Fault("PUT", r".*", status=402, body=b'{"type":"invalid_request_error","message":"plan"}')
    )
    response = client.post("/", data=form.submission())
    assert response.status_code == 502
    assert "Weekly digest" in text_of(response.get_data(as_text=True))
    assert (
        HtmlForm.parse(response.get_data(as_text=True))
        .checkbox(status_name(seed.TOPIC_DIGEST))
        .checked
    )


def test_the_catalog_failing_on_save_keeps_nothing_half_done(signed_in, faulty, courier_state, app):
    client = signed_in()
    form = HtmlForm.parse(client.get("/").get_data(as_text=True))
    form.set(status_name(seed.TOPIC_DIGEST), "OPTED_IN", True)
    app.extensions["prefcenter"].catalog.clear()
    faulty.faults.append(Fault("GET", r"/preferences/sections", status=503))
    response = client.post("/", data=form.submission())
    assert response.status_code == 503
    assert courier_state.count("PUT", r".*") == 0


def test_unexpected_errors_show_a_plain_page(app_config, courier):
    app = create_app(app_config, courier=courier, environ={})
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    text = text_of(response.get_data(as_text=True))
    assert "Something went wrong" in text and "secret detail" not in text
