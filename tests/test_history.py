"""Recent changes: the person's changes from Courier's log, newest first, saying what, when and
where; paged by a signed cursor; one Courier read when opened, none on a plain page view."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from prefcenter import create_app
from prefcenter.access.links import LinkClaims, Purpose
from prefcenter.courier import (
    ChannelClassification,
    CourierRejected,
    PreferenceStatus,
    PreferenceUpdate,
)
from prefcenter.emulator import seed
from prefcenter.page.attribution import (
    MATCH_WINDOW,
    ConsentTail,
    Recorded,
    Where,
    attribute,
    read_consent_tail,
)
from prefcenter.page.changes import Change, Setting, describe
from prefcenter.page.forms import field_key

from browser_fixtures import consent_file_in_use
from faults import Fault
from htmlform import HtmlForm, text_of

pytestmark = pytest.mark.consent_file  # consent records in `audit_path`

USER = "user-1"
LOGS = r"/preferences/logs"
ON, OFF = PreferenceStatus.OPTED_IN, PreferenceStatus.OPTED_OUT


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def save_on_page(client, **changes: tuple[str, str, bool]) -> None:
    """Open the page, tick or untick boxes as a person would, and save."""
    form = HtmlForm.parse(client.get("/").get_data(as_text=True))
    for field, value, checked in changes.values():
        form.set(field, value, checked)
    assert client.post("/", data=form.submission()).status_code == 302


def status_box(topic_id: str) -> str:
    return f"{field_key(topic_id)}-status"


def channels_box(topic_id: str) -> str:
    return f"{field_key(topic_id)}-channels"


def changes_listed(response) -> list[tuple[str, str]]:
    """Each listed change as (what, where), in page order."""
    html = response.get_data(as_text=True)
    items = re.findall(r'<li class="change">(.*?)</li>', html, flags=re.S)
    listed = []
    for item in items:
        what = re.search(r'<p class="change-what">(.*?)</p>', item, flags=re.S).group(1)
        where = re.search(r'<span class="change-where[^"]*">(.*?)</span>', item).group(1)
        listed.append((text_of(what), text_of(where)))
    return listed


def test_changes_from_every_way_are_listed_newest_first_saying_what_and_where(
    app, signed_in, courier, audit_path
):
    consent_file_in_use(audit_path)
    client = signed_in()
    # 1. On the page: Product updates off, and Comments by email and in-app inbox only.
    save_on_page(
        client,
        updates=(status_box(seed.TOPIC_PRODUCT_UPDATES), "OPTED_IN", False),
        comments=(channels_box(seed.TOPIC_COMMENTS), "push", False),
    )
    # 2. One-click unsubscribe from Comments, by a mail provider (no cookies).
    token = app.extensions["prefcenter"].links.make(
        LinkClaims(USER, Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_COMMENTS)
    )
    mail = app.test_client(use_cookies=False)
    assert mail.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"}).status_code == 200
    # 3. Unsubscribe from everything: Billing and Task reminders are the optional ones left on.
    asked = client.get("/unsubscribe-all").get_data(as_text=True)
    assert client.post("/unsubscribe-all", data={"csrf_token": csrf_of(asked)}).status_code == 303
    # 4. Elsewhere: the product's backend turns the weekly digest on through Courier's API.
    courier.put_preference(USER, seed.TOPIC_DIGEST, PreferenceUpdate(ON))

    response = client.get("/history")

    assert response.status_code == 200
    listed = changes_listed(response)
    elsewhere = "Elsewhere: by support, in the product or on Courier’s page"
    assert listed[0] == ("Turned on “Weekly digest”", elsewhere)
    # Topics changed by one action were written side by side: Courier took them in any order.
    assert sorted(listed[1:3]) == [
        ("Turned off “Billing and receipts”", "With “Unsubscribe from everything”"),
        ("Turned off “Task reminders”", "With “Unsubscribe from everything”"),
    ]
    assert listed[3] == (
        "Turned off “Comments and mentions”",
        "With one-click unsubscribe in an email",
    )
    assert sorted(listed[4:]) == [
        ("Turned off “Product updates”", "On this page"),
        ("“Comments and mentions” now by Email and In-app inbox", "On this page"),
    ]
    text = text_of(response.get_data(as_text=True))
    assert "Recent changes" in text
    assert "seconds ago" in text or "second ago" in text


def test_without_a_consent_file_no_change_claims_where_it_was_made(app_config, courier):
    app = create_app({**app_config, "AUDIT_LOG_PATH": None}, courier=courier, environ={})
    client = app.test_client()
    token = app.extensions["prefcenter"].links.make(LinkClaims(USER, Purpose.MANAGE))
    client.get(f"/l/{token}")
    save_on_page(client, updates=(status_box(seed.TOPIC_PRODUCT_UPDATES), "OPTED_IN", False))
    courier.put_preference(USER, seed.TOPIC_DIGEST, PreferenceUpdate(ON))

    assert changes_listed(client.get("/history")) == [
        ("Turned on “Weekly digest”", "Changed"),
        ("Turned off “Product updates”", "Changed"),
    ]


def test_changes_older_than_the_consent_files_tail_claim_no_place(signed_in, courier, audit_path):
    # Made before the file's first record: the file cannot say whether it was ours.
    courier.put_preference(USER, seed.TOPIC_DIGEST, PreferenceUpdate(ON))
    client = signed_in()
    save_on_page(client, updates=(status_box(seed.TOPIC_PRODUCT_UPDATES), "OPTED_IN", False))

    assert changes_listed(client.get("/history")) == [
        ("Turned off “Product updates”", "On this page"),
        ("Turned on “Weekly digest”", "Changed"),
    ]


def test_the_page_links_to_its_history_and_back(signed_in):
    client = signed_in()
    page = client.get("/").get_data(as_text=True)
    assert '<a href="/history">Recent changes</a>' in page
    history = client.get("/history").get_data(as_text=True)
    assert '<a href="/">Back to your preferences</a>' in history
    assert "No changes yet" in text_of(history)


def test_a_signed_out_visitor_is_sent_to_the_page_which_says_how_to_sign_in(client):
    response = client.get("/history")
    assert response.status_code == 302 and response.headers["Location"] == "/"


# -- one Courier read ---------------------------------------------------------------------


@pytest.mark.parametrize("tenant_id", [None, "acme"])
def test_opening_the_history_costs_one_courier_read_and_a_page_view_reads_no_log(
    signed_in, courier, courier_state, tenant_id
):
    courier.put_preference(USER, seed.TOPIC_DIGEST, PreferenceUpdate(ON), tenant_id)
    client = signed_in(tenant_id=tenant_id)
    client.get("/")  # the catalog is cached by any page view, as in production
    courier_state.clear_requests()

    assert client.get("/").status_code == 200
    assert courier_state.count("GET", LOGS) == 0
    assert len(courier_state.requests) == 1  # the person's preferences, nothing else

    courier_state.clear_requests()
    assert client.get("/history").status_code == 200
    assert [(r.method, r.path) for r in courier_state.requests] == [("GET", "/preferences/logs")]
    assert courier_state.requests[0].query["user_id"] == USER


# -- tenants ------------------------------------------------------------------------------


def test_a_link_with_a_tenant_shows_only_that_tenants_changes(signed_in, courier, courier_state):
    courier.put_preference(USER, seed.TOPIC_DIGEST, PreferenceUpdate(ON))  # no tenant
    courier.put_preference(USER, seed.TOPIC_EVENTS, PreferenceUpdate(ON), "acme")
    courier.put_preference(USER, seed.TOPIC_REMINDERS, PreferenceUpdate(OFF), "other-tenant")
    client = signed_in(tenant_id="acme")
    courier_state.clear_requests()

    response = client.get("/history")

    assert [what for what, _ in changes_listed(response)] == ["Turned on “Events and webinars”"]
    logs = [r for r in courier_state.requests if r.path == "/preferences/logs"]
    assert logs[0].query["tenant_id"] == "acme"


# -- paging -------------------------------------------------------------------------------


def test_changes_are_paged_with_courier_s_cursor_signed_in_the_address(signed_in, courier):
    for i in range(26):  # 26 changes: a page of 20, then 6
        courier.put_preference(USER, seed.TOPIC_DIGEST, PreferenceUpdate(ON if i % 2 else OFF))
    client = signed_in()

    first = client.get("/history")
    first_html = first.get_data(as_text=True)
    assert len(changes_listed(first)) == 20
    assert "Newer changes" not in first_html
    older = re.search(r'<a href="(/history/[^"]+)" rel="next">Older changes</a>', first_html)
    assert older, "no link to older changes"

    second = client.get(older.group(1))
    second_html = second.get_data(as_text=True)
    assert second.status_code == 200
    assert len(changes_listed(second)) == 6
    assert "Older changes" not in second_html
    # The oldest change of all, a first write of OPTED_OUT over the default (off): kept off.
    assert changes_listed(second)[-1][0] == "Kept “Weekly digest” off"
    newer = re.search(r'<a href="([^"]+)" rel="prev">Newer changes</a>', second_html)
    assert newer.group(1) == "/history"


def test_a_forged_or_altered_cursor_gets_a_400_and_reaches_no_courier(
    signed_in, courier, courier_state, mint, app
):
    for i in range(21):
        courier.put_preference(USER, seed.TOPIC_DIGEST, PreferenceUpdate(ON if i % 2 else OFF))
    client = signed_in()
    older = re.search(
        r'href="/history/([^"]+)" rel="next"', client.get("/history").get_data(as_text=True)
    ).group(1)
    payload, signature = older.rsplit(".", 1)
    altered = f"{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    courier_raw = "eyJiZWZvcmUiOiA1fQ"  # Courier's own cursor, unsigned
    courier_state.clear_requests()

    for value in ("forged", altered, courier_raw, "x" * 5000):
        response = client.get(f"/history/{value}")
        assert response.status_code == 400, value
        assert "no longer available" in text_of(response.get_data(as_text=True))
    assert courier_state.count("GET", LOGS) == 0

    # A genuine cursor of someone else's history is refused too.
    other = app.test_client()
    other.get(f"/l/{mint('user-2')}")
    assert other.get(f"/history/{older}").status_code == 400


def test_a_cursor_courier_no_longer_takes_gets_a_400_offering_the_latest(
    signed_in, courier, faulty
):
    for i in range(21):
        courier.put_preference(USER, seed.TOPIC_DIGEST, PreferenceUpdate(ON if i % 2 else OFF))
    client = signed_in()
    older = re.search(
        r'href="(/history/[^"]+)" rel="next"', client.get("/history").get_data(as_text=True)
    ).group(1)
    faulty.faults.append(
        Fault("GET", LOGS, status=400, body=b'{"type": "invalid_request_error", "message": "x"}')
    )

    response = client.get(older)

    assert response.status_code == 400
    assert '<a class="button primary" href="/history">' in response.get_data(as_text=True)


# -- failures ----------------------------------------------------------------------------


def test_courier_down_gives_a_clear_503_page(signed_in, faulty):
    client = signed_in()
    faulty.faults.append(Fault("GET", LOGS, status=503))

    response = client.get("/history")

    assert response.status_code == 503
    assert "Retry-After" in response.headers
    assert "We can’t load your preferences right now" in text_of(response.get_data(as_text=True))


# -- the embedded page ----------------------------------------------------------------------


def test_the_embedded_page_has_its_history_too(app, mint, courier, courier_state):
    courier.put_preference(USER, seed.TOPIC_DIGEST, PreferenceUpdate(ON))
    frame = app.test_client(use_cookies=False)
    page = frame.get(f"/e/{mint(USER, Purpose.EMBED)}/").get_data(as_text=True)
    link = re.search(r'<a href="(/e/[^/"]+/history)">Recent changes</a>', page)
    assert link, "the embedded page links to its history"

    response = frame.get(link.group(1))

    assert response.status_code == 200
    assert changes_listed(response) == [("Turned on “Weekly digest”", "Changed")]
    html = response.get_data(as_text=True)
    # Back goes to the embedded page, with a fresh token; nothing leaves the frame's paths.
    assert re.search(r'<a href="/e/[^/"]+/">Back to your preferences</a>', html)
    assert frame.get(f"/e/{mint(USER, Purpose.EMBED)}/history/forged").status_code == 400


# -- one describer for both records ------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"updates": (status_box(seed.TOPIC_PRODUCT_UPDATES), "OPTED_IN", False)},
        {"comments": (channels_box(seed.TOPIC_COMMENTS), "push", False)},
        {"digest": (status_box(seed.TOPIC_DIGEST), "OPTED_IN", True)},
    ],
    ids=["turned-off", "channels", "turned-on"],
)
def test_a_change_reads_the_same_from_the_consent_record_and_from_courier(
    app, signed_in, courier, audit_path, change
):
    client = signed_in()
    save_on_page(client, **change)
    record = json.loads(audit_path.read_text().splitlines()[-1])
    (entry,) = courier.preference_logs(USER, limit=1).items
    defaults = {
        t.id: t.default_status
        for section in app.extensions["prefcenter"].catalog.sections()
        for t in section.topics
    }

    with app.test_request_context("/"):
        from_consent = describe(Change.from_consent(record))
        from_courier = describe(Change.from_log(entry).with_default(defaults[entry.topic_id]))

    assert from_consent == from_courier
    assert from_courier in (
        "Turned off “Product updates”",
        "“Comments and mentions” now by Email and In-app inbox",
        "Turned on “Weekly digest”",
    )


@pytest.mark.parametrize(
    ("before", "after", "said"),
    [
        (Setting.of(ON, False, ()), Setting.of(OFF, False, ()), "Turned off “Topic”"),
        (Setting.of(OFF, False, ()), Setting.of(ON, False, ()), "Turned on “Topic”"),
        (
            Setting.of(OFF, False, ()),
            Setting.of(ON, True, ["sms", "email"]),
            "Turned on “Topic”, by Email and Text message (SMS)",
        ),
        (
            Setting.of(ON, False, ()),
            Setting.of(ON, True, ["email", "sms"]),
            "“Topic” now by Email and Text message (SMS)",
        ),
        (
            Setting.of(ON, True, ["sms"]),
            Setting.of(ON, False, ()),
            "“Topic” now by its usual channels",
        ),
        (Setting.of(ON, True, ["sms"]), Setting.of(ON, True, []), "“Topic” now by no channel"),
        (Setting.of(ON, True, ["sms"]), Setting.of(ON, True, ["sms"]), "Kept “Topic” on"),
        (
            Setting.of(OFF, True, ["sms"]),
            Setting.of(OFF, True, ["push"]),
            "Changed the channels of “Topic”, which stays off",
        ),
        (None, Setting.of(OFF, True, ["sms"]), "Turned off “Topic”"),
        (
            Setting.of(ON, True, ["sms"]),
            Setting.of(ON, True, ["sms", "pigeon"]),
            "“Topic” now by Text message (SMS) and pigeon",
        ),
        (Setting.of(ON, False, ()), Setting.of("SNOOZED", False, ()), "Changed “Topic”"),
        (
            Setting.of(OFF, False, ()),
            Setting.of(PreferenceStatus.REQUIRED, False, ()),
            "Turned on “Topic”",
        ),
    ],
)
def test_each_kind_of_change_has_its_sentence(app, before, after, said):
    change = Change("t", "Topic", datetime.now(UTC), after=after, before=before)
    with app.test_request_context("/"):
        assert describe(change) == said


def test_a_change_reads_in_the_page_s_language(app):
    change = Change(
        "t", "Topic", datetime.now(UTC), Setting.of(ON, False, ()), Setting.of(OFF, False, ())
    )
    with app.test_request_context("/?lang=de"):
        assert describe(change) == "„Topic“ eingeschaltet"
    with app.test_request_context("/?lang=fr"):
        assert describe(change) == "«\u00a0Topic\u00a0» activé"
    channels = Change(
        "t",
        "Topic",
        datetime.now(UTC),
        Setting.of(ON, True, [str(ChannelClassification.EMAIL)]),
        Setting.of(ON, False, ()),
    )
    with app.test_request_context("/?lang=de"):
        assert "E-Mail" in describe(channels)


# -- attribution --------------------------------------------------------------------------


def logged(minutes_ago: float, topic: str = "t", status=OFF, channels=None) -> Change:
    at = datetime(2026, 11, 30, 12, 0, tzinfo=UTC) - timedelta(minutes=minutes_ago)
    after = Setting.of(status, channels is not None, channels or ())
    return Change(topic, topic, at, after=after, before=None)


def recorded(change: Change, via: str, seconds_later: float = 0.2) -> Recorded:
    return Recorded(
        Change(
            change.topic_id,
            change.topic_name,
            change.at + timedelta(seconds=seconds_later),
            after=change.after,
            before=change.before,
        ),
        via,
    )


def test_a_log_entry_is_ours_only_with_a_record_of_the_same_write_close_in_time():
    page, one_click, elsewhere, old = logged(1), logged(2, "u"), logged(3), logged(90)
    other_value = logged(4, status=ON)
    tail = ConsentTail(
        records=(
            recorded(page, "manage_page"),
            recorded(one_click, "one_click"),
            # Same topic and value, but two minutes off: not this write.
            recorded(elsewhere, "manage_page", seconds_later=120),
            recorded(other_value, "unsubscribe_all", seconds_later=-(MATCH_WINDOW.seconds + 1)),
        ),
        covers_from=datetime(2026, 11, 30, 11, 0, tzinfo=UTC),  # an hour of records
    )

    assert attribute([page, one_click, elsewhere, other_value, old], tail) == [
        Where.THIS_PAGE,
        Where.ONE_CLICK,
        Where.ELSEWHERE,
        Where.ELSEWHERE,
        Where.UNKNOWN,  # 90 minutes ago: before the tail's first record
    ]


def test_one_record_vouches_for_one_entry_only():
    ours, same_again = logged(1), logged(1.1)  # the same value written twice, 6 s apart
    tail = ConsentTail(
        records=(recorded(ours, "embedded_page"),), covers_from=ours.at - timedelta(hours=1)
    )
    assert attribute([ours, same_again], tail) == [Where.THIS_PAGE, Where.ELSEWHERE]


def test_a_record_of_a_way_this_code_does_not_name_is_still_ours():
    change = logged(1)
    tail = ConsentTail(records=(recorded(change, "a_future_way"),), covers_from=None)
    assert attribute([change], tail) == [Where.OUR_PAGES]


def test_only_the_tail_of_the_consent_file_is_read(tmp_path):
    path = tmp_path / "consent.jsonl"
    start = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    lines = []
    for i in range(2000):
        lines.append(
            json.dumps(
                {
                    "event": "preference_changed",
                    "at": (start + timedelta(seconds=i)).isoformat(),
                    "user_id": "user-1" if i % 2 else "user-2",
                    "tenant_id": None,
                    "topic_id": "t",
                    "topic_name": "T",
                    "old": {"status": "OPTED_IN", "has_custom_routing": False, "channels": []},
                    "new": {"status": "OPTED_OUT", "has_custom_routing": False, "channels": []},
                    "via": "manage_page",
                }
            )
        )
    path.write_text("\n".join(lines) + "\nnot json\n", encoding="utf-8")
    size = path.stat().st_size

    tail = read_consent_tail(str(path), "user-1", None, max_bytes=size // 4)

    # About a quarter of the file, starting at a whole line; only user-1's records kept.
    assert 200 < len(tail.records) < 300
    assert all(r.change.tenant_id is None for r in tail.records)
    assert tail.covers_from > start + timedelta(seconds=1400)
    assert tail.records[-1].change.at == start + timedelta(seconds=1999)
    assert read_consent_tail(str(tmp_path / "missing.jsonl"), "user-1", None).records == ()
    assert read_consent_tail(None, "user-1", None).covers_from is None


def test_a_link_without_a_tenant_leaves_out_changes_made_in_a_tenant(signed_in, courier):
    courier.put_preference(USER, seed.TOPIC_DIGEST, PreferenceUpdate(ON))
    courier.put_preference(USER, seed.TOPIC_EVENTS, PreferenceUpdate(ON), "acme")

    listed = changes_listed(signed_in().get("/history"))

    assert [what for what, _ in listed] == ["Turned on “Weekly digest”"]


def test_a_passing_courier_failure_is_retried_within_the_one_view(
    signed_in, courier, faulty, courier_state
):
    courier.put_preference(USER, seed.TOPIC_DIGEST, PreferenceUpdate(ON))
    client = signed_in()
    client.get("/")
    faulty.faults.append(Fault("GET", LOGS, status=503, times=1))

    response = client.get("/history")

    assert response.status_code == 200
    assert changes_listed(response) == [("Turned on “Weekly digest”", "Changed")]


@pytest.mark.parametrize(
    "body",
    [b"[]", b'{"items": {}}', b'{"items": [{"topic_id": "t"}]}', b'{"items": [], "paging": 3}'],
)
def test_an_answer_that_is_not_a_change_log_gets_the_try_again_page(signed_in, faulty, body):
    client = signed_in()
    faulty.faults.append(Fault("GET", LOGS, status=200, body=body))

    assert client.get("/history").status_code == 503


# -- the client ---------------------------------------------------------------------------


def test_the_client_reads_the_log_typed_and_paged(courier):
    courier.put_preference(
        USER, seed.TOPIC_COMMENTS, PreferenceUpdate(ON, True, (ChannelClassification.SMS,))
    )
    courier.put_preference(USER, seed.TOPIC_COMMENTS, PreferenceUpdate(OFF), "acme")
    courier.put_preference(USER, seed.TOPIC_COMMENTS, PreferenceUpdate(OFF))

    first = courier.preference_logs(USER, limit=2)
    rest = courier.preference_logs(USER, cursor=first.cursor, limit=2)

    newest, in_tenant = first.items
    assert (first.more, rest.more, rest.cursor) == (True, False, None)
    assert newest.topic_name == "Comments and mentions" and newest.tenant_id is None
    assert newest.current.status is OFF and newest.current.custom_routing == ()
    assert newest.previous.custom_routing == (ChannelClassification.SMS,)
    assert in_tenant.tenant_id == "acme" and in_tenant.previous is None
    assert newest.timestamp.tzinfo is not None and newest.timestamp >= in_tenant.timestamp
    (oldest,) = rest.items
    assert oldest.current.has_custom_routing and oldest.previous is None
    assert [e.tenant_id for e in courier.preference_logs(USER, "acme").items] == ["acme"]


def test_courier_refuses_a_cursor_it_did_not_issue(courier):
    with pytest.raises(CourierRejected) as refused:
        courier.preference_logs(USER, cursor="not-a-cursor")
    assert refused.value.status_code == 400
