"""The link command and `make link`: topics listed from Courier, links only for topics it has."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from prefcenter import create_app
from prefcenter.emulator import seed

from faults import Fault

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(sys.executable).parent.parent
LINK_API_KEY = "link-api-key-for-cli-tests"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "LINK_API_KEY": LINK_API_KEY}


def test_list_topics_prints_each_section_and_its_topic_ids(app):
    result = app.test_cli_runner().invoke(args=["link", "--list-topics"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"Account and security (section {seed.SECTION_ACCOUNT})"
    assert f"  {seed.TOPIC_SECURITY}  Security alerts [REQUIRED]" in lines
    assert any(line.startswith(f"  {seed.TOPIC_DIGEST}  Weekly digest") for line in lines)


def test_the_command_needs_a_person_unless_listing_topics(app):
    result = app.test_cli_runner().invoke(args=["link"])
    assert result.exit_code != 0
    assert "USER_ID" in result.output


def test_an_unsubscribe_link_for_a_topic_courier_lacks_is_refused(app, courier_state):
    result = app.test_cli_runner().invoke(args=["link", "user-1", "--unsubscribe", "no-such"])
    assert result.exit_code != 0
    assert "Courier has no topic 'no-such'" in result.output
    assert "/u/" not in result.output


def test_an_unsubscribe_link_for_a_catalogued_topic_costs_no_courier_read(app, courier_state):
    app.extensions["prefcenter"].catalog.sections()  # the cache, as a running server holds it
    before = len(courier_state.requests)
    result = app.test_cli_runner().invoke(args=["link", "u1", "--unsubscribe", seed.TOPIC_DIGEST])
    assert result.exit_code == 0, result.output
    assert "/u/" in result.output.splitlines()[0]
    assert len(courier_state.requests) == before


def test_the_api_refuses_an_unsubscribe_link_for_a_topic_courier_lacks(client):
    response = client.post(
        "/api/links",
        json={"user_id": "u1", "purpose": "unsubscribe", "topic_id": "no-such"},
        headers={"Authorization": f"Bearer {LINK_API_KEY}"},
    )
    assert response.status_code == 400
    assert "Courier has no topic 'no-such'" in response.get_json()["error"]
    assert "token" not in response.get_json()


def test_make_link_works_without_an_activated_virtualenv(tmp_path):
    """The README's command, from a shell that never ran `source .venv/bin/activate`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("COURIER_", "SECRET_KEY", "PUBLIC_BASE_URL", "VIRTUAL_ENV"))
    }
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    make = ["make", "-s", f"VENV={VENV}"]
    link = subprocess.run(
        [*make, "link", "USER=user-1", f"TOPIC={seed.TOPIC_DIGEST}", "LOCALE=de"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert link.returncode == 0, link.stderr
    url, *headers = link.stdout.splitlines()
    assert url.startswith("http://127.0.0.1:5000/u/")
    assert headers == [
        f"List-Unsubscribe: <{url}>",
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
    ]
    refused = subprocess.run(
        [*make, "link", "USER=user-1", "TOPIC=no-such"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode != 0 and "Courier has no topic 'no-such'" in refused.stderr
    topics = subprocess.run(
        [*make, "topics"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert topics.returncode == 0 and seed.TOPIC_DIGEST in topics.stdout
    missing = subprocess.run(
        [*make, "link"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert missing.returncode != 0 and "make link USER=" in missing.stderr


def test_the_api_answers_503_when_courier_cannot_say_whether_a_topic_exists(
    app_config, courier, faulty
):
    app = create_app({**app_config, "COURIER_RETRY_BUDGET": 0.0}, courier=courier, environ={})
    faulty.faults.append(Fault("GET", r"/preferences/sections", status=503))
    response = app.test_client().post(
        "/api/links",
        json={"user_id": "u1", "purpose": "unsubscribe", "topic_id": seed.TOPIC_DIGEST},
        headers={"Authorization": f"Bearer {LINK_API_KEY}"},
    )
    assert response.status_code == 503
    assert "Courier did not answer" in response.get_json()["error"]
    assert "Retry-After" in response.headers
    assert "token" not in response.get_json()
