"""The README's run command starts the page in demo mode, with a working link on start."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_make_run_serves_the_demo_page():
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("COURIER_", "SECRET_KEY"))}
    environ.pop("PUBLIC_BASE_URL", None)
    server = subprocess.Popen(
        ["make", "-s", "run", f"PORT={port}", f"VENV={Path(sys.executable).parent.parent}"],
        cwd=ROOT,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output = ""
        deadline = time.monotonic() + 120
        while "Open the demo:" not in output and time.monotonic() < deadline:
            line = server.stdout.readline()
            if not line and server.poll() is not None:
                break
            output += line
        match = re.search(r"Open the demo: (\S+)", output)
        assert match, output
        link = match.group(1)
        assert link.startswith(f"http://127.0.0.1:{port}/l/")
        with httpx.Client(follow_redirects=True, timeout=10) as browser:
            for _ in range(100):
                try:
                    page = browser.get(link)
                    break
                except httpx.ConnectError:
                    time.sleep(0.1)
            assert page.status_code == 200
            assert str(page.url) == f"http://127.0.0.1:{port}/"
            assert "Demo mode" in page.text and "Security alerts" in page.text
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)
        server.stdout.close()
