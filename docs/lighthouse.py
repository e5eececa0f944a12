"""Lighthouse's accessibility score for the preferences page (demo workspace, light colours),
as a phone and as a desktop.

    .venv/bin/python docs/lighthouse.py

Lighthouse is a Node program: the first run installs it with npm into a cache folder outside
the checkout ($PREFCENTER_LIGHTHOUSE_DIR, default ~/.cache/prefcenter/lighthouse), later runs
reuse it. It drives Debian's Chromium (CHROME_PATH=/usr/bin/chromium). The page is served on a
loopback port with the Courier emulator behind it, as docs/page_height.py serves it, and
Lighthouse opens a "Manage preferences" link, which signs in and lands on the page.

Too slow for `make test`; run it after changing the page. Prints each score and the audits
that failed, and exits 1 when a score is below 1.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

from page_height import CHROMIUM, demo_workspace, served

VERSION = "13.5.0"
CACHE = Path(
    os.environ.get("PREFCENTER_LIGHTHOUSE_DIR")
    or Path.home() / ".cache" / "prefcenter" / "lighthouse"
)
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-background-networking"
    " --disable-component-update --disable-sync"
)
# Lighthouse's own emulation: "mobile" is a 412 px wide phone, "desktop" 1350 x 940.
FORM_FACTORS = {"phone": [], "desktop": ["--preset=desktop"]}


def lighthouse() -> Path:
    """The Lighthouse command, installed into CACHE the first time."""
    command = CACHE / "node_modules" / ".bin" / "lighthouse"
    if not command.exists():
        if not shutil.which("npm"):
            raise SystemExit("docs/lighthouse.py needs npm (Node.js) to install Lighthouse")
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--prefix",
                str(CACHE),
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                f"lighthouse@{VERSION}",
            ],
            check=True,
        )
    return command


def audit(command: Path, url: str, flags: list[str]) -> dict:
    """Run Lighthouse's accessibility category on `url`; return its JSON report."""
    result = subprocess.run(
        [
            str(command),
            url,
            "--only-categories=accessibility",
            "--output=json",
            "--output-path=stdout",
            "--quiet",
            f"--chrome-flags={CHROME_FLAGS}",
            *flags,
        ],
        env={**os.environ, "CHROME_PATH": CHROMIUM},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"lighthouse failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return json.loads(result.stdout)


def failed_audits(report: dict) -> list[str]:
    category = report["categories"]["accessibility"]
    audits = report["audits"]
    return [
        f"{ref['id']}: {audits[ref['id']]['title']}"
        for ref in category["auditRefs"]
        if ref["weight"]
        and audits[ref["id"]]["score"] is not None
        and audits[ref["id"]]["score"] < 1
    ]


def main() -> int:
    command = lighthouse()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    scores = {}
    with served(demo_workspace()) as (_, link):
        for name, flags in FORM_FACTORS.items():
            report = audit(command, link, flags)
            scores[name] = report["categories"]["accessibility"]["score"]
            landed = report.get("finalDisplayedUrl") or report.get("finalUrl")
            print(f"{name}: accessibility {scores[name]:.2f} ({landed.split('?')[0]})")
            for line in failed_audits(report):
                print(f"  failed {line}")
    return 0 if all(score == 1 for score in scores.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
