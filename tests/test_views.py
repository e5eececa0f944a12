"""The preferences page end to end: Flask test client -> app -> client -> Courier emulator."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from prefcenter.emulator import seed
from prefcenter.page.forms import field_key

from htmlform import HtmlForm, text_of

USER = "user-1"
USER_READ = r"/users/[^/]+/preferences"
WRITE = r"/users/[^/]+/preferences/[^/]+"


def status_name(topic_id: str) -> str:
    return f"{field_key(topic_id)}-status"


def channels_name(topic_id: str) -> str:
    return f"{field_key(topic_id)}-channels"


def open_page(client):
    response = client.get("/")
    assert response.status_code == 200
    return response, HtmlForm.parse(response.get_data(as_text=True))


def test_page_shows_sections_and_topics_with_descriptions(signed_in):
    response, _form = open_page(signed_in())
    text = text_of(response.get_data(as_text=True))
    for words in (
        "Account and security",
        "Messages about your account and its safety.",
        "Activity",
        "News and offers",
        "Security alerts",
        "New sign-ins, password changes and other things we must tell you about.",
        "Comments and mentions",
        "When someone replies to you or mentions you.",
        "Weekly digest",
    ):
        assert words in text
    assert "Demo mode" not in text


def test_page_shows_channel_choice_only_where_the_section_offers_it(signed_in):
    _response, form = open_page(signed_in())
    comments = {c.value for c in form.controls if c.name == channels_name(seed.TOPIC_COMMENTS)}
    assert comments == {"email", "push", "inbox"}
    assert not [c for c in form.controls if c.name == channels_name(seed.TOPIC_PRODUCT_UPDATES)]


def test_defaults_are_shown_for_a_user_with_no_choices(signed_in):
    _response, form = open_page(signed_in())
    assert form.checkbox(status_name(seed.TOPIC_PRODUCT_UPDATES)).checked
    assert not form.checkbox(status_name(seed.TOPIC_DIGEST)).checked
    # No custom routing yet: every channel the section offers is ticked.
    assert form.checkbox(channels_name(seed.TOPIC_COMMENTS), "push").checked


def test_required_topic_is_locked_and_explained(signed_in):
    response, form = open_page(signed_in())
    locked = [c for c in form.controls if c.id == status_name(seed.TOPIC_SECURITY)]
    assert locked == []  # a disabled input has no name, so nothing of it is ever posted
    html = response.get_data(as_text=True)
    assert f'id="{status_name(seed.TOPIC_SECURITY)}" checked disabled' in html
    text = text_of(html)
    assert "Required" in text and "cannot be turned off" in text
    # Channels on a required topic can still be chosen.
    assert form.checkbox(channels_name(seed.TOPIC_SECURITY), "sms").checked


def test_toggle_and_channel_choice_are_saved_and_shown_after_reload(signed_in, courier_state):
    client = signed_in()
    _response, form = open_page(client)
    form.set(status_name(seed.TOPIC_PRODUCT_UPDATES), "OPTED_IN", False)
    form.set(channels_name(seed.TOPIC_COMMENTS), "push", False)
    courier_state.clear_requests()

    saved = client.post("/", data=form.submission())
    assert saved.status_code == 302 and saved.headers["Location"] == "/"

    writes = [r for r in courier_state.requests if r.method == "PUT"]
    assert sorted(r.path for r in writes) == sorted(
        [
            f"/users/{USER}/preferences/{seed.TOPIC_PRODUCT_UPDATES}",
            f"/users/{USER}/preferences/{seed.TOPIC_COMMENTS}",
        ]
    )
    # Every write carries status and routing together, so channel choices are never wiped.
    for request in writes:
        assert set(request.body["topic"]) == {"status", "has_custom_routing", "custom_routing"}
    updates = courier_state.store.user_preference(USER, seed.TOPIC_PRODUCT_UPDATES)
    assert updates["status"] == "OPTED_OUT"
    comments = courier_state.store.user_preference(USER, seed.TOPIC_COMMENTS)
    assert comments["status"] == "OPTED_IN"
    assert comments["has_custom_routing"] is True
    assert sorted(comments["custom_routing"]) == ["email", "inbox"]

    reloaded, form = open_page(client)
    text = text_of(reloaded.get_data(as_text=True))
    assert "Product updates: turned off." in text
    assert "Comments and mentions: now by Email and In-app inbox." in text
    assert not form.checkbox(status_name(seed.TOPIC_PRODUCT_UPDATES)).checked
    assert not form.checkbox(channels_name(seed.TOPIC_COMMENTS), "push").checked
    assert form.checkbox(channels_name(seed.TOPIC_COMMENTS), "inbox").checked
    # The confirmation is shown once, not on every later view.
    again, _ = open_page(client)
    assert "Product updates: turned off." not in text_of(again.get_data(as_text=True))


def test_channel_choice_on_a_required_topic_is_saved(signed_in, courier_state):
    client = signed_in()
    _response, form = open_page(client)
    form.set(channels_name(seed.TOPIC_SECURITY), "sms", False)
    assert client.post("/", data=form.submission()).status_code == 302
    security = courier_state.store.user_preference(USER, seed.TOPIC_SECURITY)
    assert security["status"] == "REQUIRED"
    assert sorted(security["custom_routing"]) == ["email", "push"]


@pytest.mark.parametrize(
    "changes",
    [
        [],
        [(seed.TOPIC_DIGEST, "OPTED_IN", True)],
        [
            (seed.TOPIC_DIGEST, "OPTED_IN", True),
            (seed.TOPIC_BILLING, "OPTED_IN", False),
            (seed.TOPIC_EVENTS, "OPTED_IN", True),
        ],
    ],
    ids=["none", "one", "three"],
)
def test_a_save_writes_exactly_the_changed_topics(signed_in, courier_state, changes):
    client = signed_in()
    _response, form = open_page(client)
    for topic_id, value, checked in changes:
        form.set(status_name(topic_id), value, checked)
    courier_state.clear_requests()

    response = client.post("/", data=form.submission(), follow_redirects=True)

    assert response.status_code == 200
    assert courier_state.count("PUT", WRITE) == len(changes)
    written = {r.path.rsplit("/", 1)[1] for r in courier_state.requests if r.method == "PUT"}
    assert written == {topic_id for topic_id, _v, _c in changes}
    if not changes:
        assert "Nothing to save" in text_of(response.get_data(as_text=True))


def test_one_user_read_per_page_view_and_the_catalog_is_cached(signed_in, courier_state):
    client = signed_in()
    courier_state.clear_requests()
    open_page(client)
    assert courier_state.count("GET", USER_READ) == 1
    assert courier_state.count("GET", r"/preferences/sections") == 1
    open_page(client)
    open_page(client)
    assert courier_state.count("GET", USER_READ) == 3
    assert courier_state.count("GET", r"/preferences/sections") == 1
    assert len(courier_state.requests) == 4


def test_a_save_reads_the_changed_topic_then_writes_it_once(signed_in, courier_state):
    client = signed_in()
    _response, form = open_page(client)
    form.set(status_name(seed.TOPIC_DIGEST), "OPTED_IN", True)
    courier_state.clear_requests()
    assert client.post("/", data=form.submission()).status_code == 302
    assert [(r.method, r.path) for r in courier_state.requests] == [
        ("GET", f"/users/{USER}/preferences/{seed.TOPIC_DIGEST}"),
        ("PUT", f"/users/{USER}/preferences/{seed.TOPIC_DIGEST}"),
    ]


def test_a_save_never_overwrites_a_change_made_elsewhere(signed_in, courier_state, courier):
    client = signed_in()
    _response, form = open_page(client)
    # Meanwhile, in another tab or through the API, the person turns the digest on.
    from prefcenter.courier import PreferenceStatus, PreferenceUpdate

    courier.put_preference(
        USER, seed.TOPIC_DIGEST, PreferenceUpdate(PreferenceStatus.OPTED_IN, False, ())
    )
    form.set(status_name(seed.TOPIC_EVENTS), "OPTED_IN", True)
    assert client.post("/", data=form.submission()).status_code == 302
    assert courier_state.store.user_preference(USER, seed.TOPIC_DIGEST)["status"] == "OPTED_IN"
    assert courier_state.store.user_preference(USER, seed.TOPIC_EVENTS)["status"] == "OPTED_IN"


REFUSALS = [
    ("unknown status", [(status_name(seed.TOPIC_DIGEST), "MAYBE")], "is not a subscription status"),
    (
        "REQUIRED as a choice",
        [(status_name(seed.TOPIC_DIGEST), "REQUIRED")],
        "can only be turned on or off",
    ),
    (
        "opting out of a required topic",
        [(status_name(seed.TOPIC_SECURITY), "OPTED_OUT")],
        "is required and cannot be turned off",
    ),
    (
        "unknown channel",
        [(channels_name(seed.TOPIC_COMMENTS), "fax")],
        "is not a channel offered here",
    ),
    (
        "channel the section does not offer",
        [(channels_name(seed.TOPIC_COMMENTS), "sms")],
        "is not a channel offered here",
    ),
    (
        "channels where there is no channel choice",
        [(channels_name(seed.TOPIC_PRODUCT_UPDATES), "email")],
        "does not offer a choice of channels",
    ),
    (
        "two values for one toggle",
        [
            (status_name(seed.TOPIC_DIGEST), "OPTED_IN"),
            (status_name(seed.TOPIC_DIGEST), "OPTED_OUT"),
        ],
        "Choose on or off",
    ),
]


@pytest.mark.parametrize("_case, extra, message", REFUSALS, ids=[case[0] for case in REFUSALS])
def test_an_invalid_topic_is_refused_beside_it_and_the_valid_change_next_to_it_saves(
    signed_in, courier_state, _case, extra, message
):
    client = signed_in()
    _response, form = open_page(client)
    form.set(status_name(seed.TOPIC_EVENTS), "OPTED_IN", True)  # a valid change alongside
    courier_state.clear_requests()

    response = client.post("/", data=form.submission(*extra))

    assert response.status_code == 400
    text = text_of(response.get_data(as_text=True))
    assert "Your other changes were saved, but not these" in text and message in text
    assert "turned on" in text
    assert [r.path for r in courier_state.requests if r.method == "PUT"] == [
        f"/users/{USER}/preferences/{seed.TOPIC_EVENTS}"
    ]
    assert courier_state.store.user_preference(USER, seed.TOPIC_EVENTS)["status"] == "OPTED_IN"


def test_an_invalid_topic_alone_saves_nothing(signed_in, courier_state):
    client = signed_in()
    _response, form = open_page(client)
    courier_state.clear_requests()

    response = client.post("/", data=form.submission((status_name(seed.TOPIC_DIGEST), "MAYBE")))

    assert response.status_code == 400
    text = text_of(response.get_data(as_text=True))
    assert "Nothing was saved" in text and "is not a subscription status" in text
    assert courier_state.count("PUT", r".*") == 0


@pytest.mark.parametrize(
    "topic_id, message",
    [
        (seed.TOPIC_SECURITY, "is required: keep at least one channel"),
        (
            seed.TOPIC_COMMENTS,
            "Choose at least one channel for Comments and mentions, or turn it off",
        ),
    ],
)
def test_zero_channels_are_refused_where_the_topic_stays_on(
    signed_in, courier_state, topic_id, message
):
    client = signed_in()
    _response, form = open_page(client)
    for control in form.controls:
        if control.name == channels_name(topic_id):
            control.checked = False
    courier_state.clear_requests()

    response = client.post("/", data=form.submission())

    assert response.status_code == 400
    assert message in text_of(response.get_data(as_text=True))
    assert courier_state.requests == []
    # The person's choices stay on the page, ready to fix.
    refused = HtmlForm.parse(response.get_data(as_text=True))
    assert not refused.checkbox(channels_name(topic_id), "email").checked


def test_zero_channels_are_fine_on_a_topic_turned_off(signed_in, courier_state):
    client = signed_in()
    _response, form = open_page(client)
    form.set(status_name(seed.TOPIC_COMMENTS), "OPTED_IN", False)
    for control in form.controls:
        if control.name == channels_name(seed.TOPIC_COMMENTS):
            control.checked = False
    assert client.post("/", data=form.submission()).status_code == 302
    assert courier_state.store.user_preference(USER, seed.TOPIC_COMMENTS)["status"] == "OPTED_OUT"


def test_a_post_without_the_csrf_token_is_refused(signed_in, courier_state):
    client = signed_in()
    _response, form = open_page(client)
    form.set(status_name(seed.TOPIC_DIGEST), "OPTED_IN", True)
    courier_state.clear_requests()
    data = MultiDict([(n, v) for n, v in form.pairs() if n != "csrf_token"])
    response = client.post("/", data=data)
    assert response.status_code == 400
    assert "Nothing was saved" in text_of(response.get_data(as_text=True))
    assert courier_state.requests == []


def test_a_tampered_record_of_the_page_is_refused(signed_in, courier_state):
    client = signed_in()
    _response, form = open_page(client)
    data = MultiDict([(n, v + "x" if n == "rendered" else v) for n, v in form.pairs()])
    courier_state.clear_requests()
    response = client.post("/", data=data)
    assert response.status_code == 400
    assert courier_state.requests == []


def test_signed_out_people_see_how_to_get_in_and_cannot_save(client, courier_state):
    response = client.get("/")
    assert response.status_code == 401
    assert "Manage preferences" in text_of(response.get_data(as_text=True))
    assert client.post("/", data={"x": "y"}).status_code in (400, 401)
    assert courier_state.count("PUT", WRITE) == 0
