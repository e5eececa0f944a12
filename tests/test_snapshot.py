"""The form's signed record of what the page showed: bound to the person, and dated."""

from __future__ import annotations

import pytest

from prefcenter.emulator import seed
from prefcenter.page.forms import field_key

from htmlform import HtmlForm, text_of

USER = "user-1"
DIGEST = f"{field_key(seed.TOPIC_DIGEST)}-status"
JSON = {"Accept": "application/json"}
MAX_AGE = 10 * 60  # shorter than the CSRF value's hour, so only the record can be too old


@pytest.fixture
def app_config(app_config):
    return {**app_config, "FORM_RECORD_MAX_AGE": MAX_AGE}


def test_the_record_lasts_a_day_by_default():
    from prefcenter.platform.config import DEFAULTS

    assert DEFAULTS["FORM_RECORD_MAX_AGE"] == 24 * 60 * 60


@pytest.mark.parametrize("answer", ["page", "json"])
def test_a_record_older_than_its_maximum_age_saves_nothing(signed_in, courier_state, clock, answer):
    client = signed_in()
    form = HtmlForm.parse(client.get("/").get_data(as_text=True)).set(DIGEST, "OPTED_IN", True)
    clock(MAX_AGE + 1)
    courier_state.clear_requests()

    response = client.post("/", data=form.submission(), headers=JSON if answer == "json" else {})

    assert response.status_code == 400
    if answer == "json":
        body = response.get_json()
        assert body["reload"] is True and "Reload the page" in body["errors"][0]["message"]
    else:
        # The plain form keeps the person's choices on the page, for them to check and save.
        text = text_of(response.get_data(as_text=True))
        assert "This page was open for a long time, so nothing was saved yet." in text
    assert courier_state.count("PUT", r".*") == 0
    assert courier_state.store.user_preference(USER, seed.TOPIC_DIGEST)["status"] == "OPTED_OUT"


def test_a_record_within_its_maximum_age_saves(signed_in, courier_state, clock):
    client = signed_in()
    form = HtmlForm.parse(client.get("/").get_data(as_text=True)).set(DIGEST, "OPTED_IN", True)
    clock(MAX_AGE - 30)
    assert client.post("/", data=form.submission()).status_code == 302
    assert courier_state.store.user_preference(USER, seed.TOPIC_DIGEST)["status"] == "OPTED_IN"


def test_each_autosave_renews_the_record(signed_in, courier_state, clock):
    client = signed_in()
    form = HtmlForm.parse(client.get("/").get_data(as_text=True))
    for on in (True, False, True):  # three changes, each a little under the maximum age apart
        clock(MAX_AGE - 30)
        response = client.post(
            "/", data=form.set(DIGEST, "OPTED_IN", on).submission(), headers=JSON
        )
        assert response.status_code == 200, response.get_json()
        answer = response.get_json()
        for control in form.controls:  # as app.js does: the next save sends the new ones
            if control.name in ("rendered", "csrf_token"):
                control.value = answer[control.name]
    assert courier_state.store.user_preference(USER, seed.TOPIC_DIGEST)["status"] == "OPTED_IN"
