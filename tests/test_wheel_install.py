"""The package installs anywhere: a wheel built from the checkout, installed into a fresh
virtualenv, serves the page (templates, stylesheet, translations) under gunicorn started from
another directory, and building it prints no setuptools warnings."""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from prefcenter.access.links import LinkClaims, Purpose
from prefcenter.access.minting import LinkMinter

from test_slow_clients import free_port, server_env, start, stop, wait_until

ROOT = Path(__file__).resolve().parents[1]
API_KEY = "wheel-emulator-key"


def outside_env() -> dict[str, str]:
    """The environment for the wheel's processes: nothing that would put the checkout on
    their path."""
    return {k: v for k, v in server_env().items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A fresh virtualenv holding only the wheel; its dependencies come from this one's
    site-packages (a path entry, so nothing is downloaded and nothing of the checkout leaks in).
    Returns the virtualenv's python and the output of building the wheel."""
    where = tmp_path_factory.mktemp("wheel")
    source, wheels, venv = where / "source", where / "wheels", where / "venv"
    # Built from a copy of what git would ship (tracked and new files, nothing ignored): an
    # in-tree build would reuse the checkout's build/ folder, stale files and all.
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(wheels), str(source)],
        capture_output=True,
        text=True,
        timeout=120,
        env=outside_env(),
    )
    assert built.returncode == 0, built.stdout + built.stderr
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, env=outside_env()
    )
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
        env=outside_env(),
    ).stdout.strip()
    # Appended after the venv's own site-packages: the installed wheel is found first, and .pth
    # files there (this checkout's editable install) are not run.
    (Path(site) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    [wheel] = wheels.glob("prefcenter-*.whl")
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "--ignore-installed",  # the checkout's editable install is on the path too
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=outside_env(),
    )
    assert install.returncode == 0, install.stdout + install.stderr
    return python, built.stdout + built.stderr + install.stdout + install.stderr


def test_building_and_installing_prints_no_warnings(installed):
    _, output = installed
    warnings = [line for line in output.splitlines() if re.search(r"warn", line, re.I)]
    assert not warnings, output


def test_the_installed_wheel_holds_templates_static_files_and_translations(installed):
    python, _ = installed
    where = subprocess.run(
        [str(python), "-c", "import prefcenter; print(prefcenter.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
        env=outside_env(),
    ).stdout.strip()
    package = Path(where).parent
    assert ROOT not in package.parents
    for name in (
        "templates/base.html",
        "templates/preferences/page.html",
        "static/style.css",
        "translations/de/LC_MESSAGES/messages.mo",
    ):
        assert (package / name).is_file(), name


@pytest.fixture
def wheel_server(installed, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """gunicorn from the wheel's virtualenv, started in an empty directory with the repo's
    gunicorn.conf.py, in front of the wheel's own emulator. Yields its URL and secret key."""
    python, _ = installed
    env = outside_env()
    log = tmp_path / "emulator.log"
    command = [str(python), "-m", "prefcenter.emulator", "--port", "0", "--api-key", API_KEY]
    emulator = start(command, env, log, where=tmp_path)
    server = None
    try:
        found: list[str] = []

        def listening() -> bool:
            found[:] = re.findall(r"listening on (http://127\.0\.0\.1:\d+)", log.read_text())
            return bool(found)

        wait_until(listening, emulator, log)
        address = f"127.0.0.1:{free_port()}"
        url, secret_key = f"http://{address}", secrets.token_urlsafe(36)
        env = {
            **env,
            "COURIER_API_KEY": API_KEY,
            "COURIER_BASE_URL": found[0],
            "SECRET_KEY": secret_key,
            "PUBLIC_BASE_URL": url,
            "BIND": address,
            "WEB_CONCURRENCY": "1",
        }
        server_log = tmp_path / "gunicorn.log"
        command = [str(python), "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")]
        server = start(command, env, server_log, where=tmp_path)
        wait_until(
            lambda: httpx.get(f"{url}/healthz", trust_env=False).status_code == 200,
            server,
            server_log,
        )
        yield url, secret_key
    finally:
        if server is not None:
            stop(server)
        stop(emulator)


def test_the_installed_wheel_serves_the_page_in_german_with_its_stylesheet(wheel_server):
    url, secret_key = wheel_server
    minter = LinkMinter.from_config(
        {
            "LINK_SIGNING_KEYS": [secret_key],
            "PUBLIC_BASE_URL": url,
            "MANAGE_LINK_MAX_AGE": 600,
            "UNSUBSCRIBE_LINK_MAX_AGE": 600,
            "EMBED_LINK_MAX_AGE": 600,
        }
    )
    link = minter.url(LinkClaims("user-1", Purpose.MANAGE, locale="de"))
    with httpx.Client(follow_redirects=True, timeout=10, trust_env=False) as browser:
        page = browser.get(link)
        assert page.status_code == 200, page.text
        assert "Benachrichtigungseinstellungen" in page.text
        assert 'lang="de"' in page.text
        [stylesheet] = re.findall(r'href="(/assets/style\.[0-9a-f]+\.css)"', page.text)
        css = browser.get(url + stylesheet)
        assert css.status_code == 200
        assert css.headers["content-type"].startswith("text/css")
        assert "--" in css.text
