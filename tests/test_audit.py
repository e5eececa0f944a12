"""The consent record: one line per change Courier accepted, with who, what, how and when."""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest

from prefcenter.access.links import Purpose
from prefcenter.emulator import seed
from prefcenter.page.forms import field_key

from faults import Fault
from htmlform import HtmlForm

pytestmark = pytest.mark.consent_file  # consent records in `audit_path`

USER = "user-1"


def records(audit_path):
    if not audit_path.exists():
        return []
    return [json.loads(line) for line in audit_path.read_text().splitlines()]


def status(topic_id):
    return f"{field_key(topic_id)}-status"


def test_a_save_writes_one_line_per_changed_topic(signed_in, audit_path):
    client = signed_in(USER, tenant_id="acme")
    form = HtmlForm.parse(client.get("/").get_data(as_text=True))
    form.set(status(seed.TOPIC_DIGEST), "OPTED_IN", True)
    form.set(f"{field_key(seed.TOPIC_COMMENTS)}-channels", "push", False)
    client.post("/", data=form.submission(), headers={"X-Request-ID": "req-7"})

    lines = sorted(records(audit_path), key=lambda r: r["topic_id"])
    assert len(lines) == 2
    comments, digest = lines
    assert digest["event"] == "preference_changed"
    assert (digest["user_id"], digest["tenant_id"]) == (USER, "acme")
    assert digest["topic_name"] == "Weekly digest"
    assert digest["old"] == {"status": "OPTED_OUT", "has_custom_routing": False, "channels": []}
    assert digest["new"] == {"status": "OPTED_IN", "has_custom_routing": False, "channels": []}
    assert digest["via"] == "manage_page" and digest["request_id"] == "req-7"
    assert datetime.fromisoformat(digest["at"]).tzinfo is not None
    assert comments["new"] == {
        "status": "OPTED_IN",
        "has_custom_routing": True,
        "channels": ["email", "inbox"],
    }


def test_nothing_is_recorded_when_nothing_changed(signed_in, audit_path):
    client = signed_in()
    form = HtmlForm.parse(client.get("/").get_data(as_text=True))
    client.post("/", data=form.submission())
    assert records(audit_path) == []


def test_a_failed_write_is_not_recorded(signed_in, faulty, audit_path):
    client = signed_in()
    form = HtmlForm.parse(client.get("/").get_data(as_text=True))
    form.set(status(seed.TOPIC_DIGEST), "OPTED_IN", True)
    form.set(status(seed.TOPIC_EVENTS), "OPTED_IN", True)
    faulty.faults.append(Fault("PUT", rf".*/{seed.TOPIC_EVENTS}", status=503))
    assert client.post("/", data=form.submission()).status_code == 502
    assert [r["topic_id"] for r in records(audit_path)] == [seed.TOPIC_DIGEST]


def test_one_click_the_unsubscribe_page_and_undo_say_how(app, mint, audit_path):
    mail = app.test_client(use_cookies=False)
    link = f"/u/{mint(USER, Purpose.UNSUBSCRIBE, topic_id=seed.TOPIC_BILLING)}"
    button = HtmlForm.parse(mail.get(link).get_data(as_text=True))  # the page's Unsubscribe
    done = mail.post(button.action, data=button.submission())
    undo = HtmlForm.parse(done.get_data(as_text=True))
    mail.post(undo.action, data=undo.submission())
    mail.post(link, data={"List-Unsubscribe": "One-Click"})  # a mail provider's
    lines = records(audit_path)
    assert [r["via"] for r in lines] == ["unsubscribe_page", "unsubscribe_undo", "one_click"]
    assert [(r["old"]["status"], r["new"]["status"]) for r in lines] == [
        ("OPTED_IN", "OPTED_OUT"),
        ("OPTED_OUT", "OPTED_IN"),
        ("OPTED_IN", "OPTED_OUT"),
    ]


def test_unsubscribe_all_and_its_undo_record_each_topic(signed_in, audit_path):
    client = signed_in()
    html = client.get("/").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    done = client.post("/unsubscribe-all", data={"csrf_token": csrf}, follow_redirects=True)
    undo = HtmlForm.parse(done.get_data(as_text=True))
    client.post(undo.action, data=undo.submission(), follow_redirects=True)
    vias = [r["via"] for r in records(audit_path)]
    assert vias.count("unsubscribe_all") == 4
    assert vias.count("unsubscribe_all_undo") == 4


def test_an_embedded_save_is_recorded_as_such(app, mint, audit_path):
    frame = app.test_client(use_cookies=False)
    page = frame.get(f"/e/{mint(USER, Purpose.EMBED)}/")
    form = HtmlForm.parse(page.get_data(as_text=True)).set(
        status(seed.TOPIC_DIGEST), "OPTED_IN", True
    )
    frame.post(form.action, data=form.submission())
    assert [r["via"] for r in records(audit_path)] == ["embedded_page"]
