"""The README's screenshots are made from the code on every run (docs/screenshots.py), into a
temporary folder: the committed ones in docs/ change only when docs/screenshots.py is run.

Pixels are not compared (fonts differ between machines); a picture that is missing, empty, the
wrong size or not shown in the README fails the test.
"""

from __future__ import annotations

import importlib.util
import os
import struct
import sys
from pathlib import Path

import pytest

from prefcenter.access.links import Purpose
from prefcenter.emulator import seed
from prefcenter.emulator.models import PreferenceWrite

from browser_fixtures import framing_host

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
MAX_BYTES = 250_000


def load_screenshots_module():
    spec = importlib.util.spec_from_file_location("screenshots", ROOT / "docs" / "screenshots.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    return struct.unpack(">II", header[16:24])


def docs_pictures() -> dict[str, tuple[int, bytes]]:
    return {path.name: (path.stat().st_mtime_ns, path.read_bytes()) for path in DOCS.glob("*.png")}


def test_the_readme_screenshots_are_made_from_the_code(live_prefcenter, new_context, tmp_path):
    screenshots = load_screenshots_module()
    out = Path(os.environ.get(screenshots.OUT_VARIABLE) or tmp_path)
    committed = docs_pictures()
    host = framing_host()
    try:
        host_origin = host.url.replace("127.0.0.1", "localhost")
        prefs = live_prefcenter(EMBED_ALLOWED_ORIGINS=[host_origin])
        # A person who has made a few choices already.
        store = prefs.courier_state.store
        store.set_user_preference("user-1", seed.TOPIC_DIGEST, PreferenceWrite("OPTED_IN"))
        routing = PreferenceWrite("OPTED_IN", True, ("push", "inbox"))
        store.set_user_preference("user-1", seed.TOPIC_REMINDERS, routing)

        written = screenshots.take_screenshots(
            new_context,
            lambda locale=None: prefs.link(Purpose.MANAGE, locale=locale),
            f"{host_origin}/?frame={prefs.link(Purpose.EMBED)}",
            out,
        )
    finally:
        host.stop()

    assert set(written) == set(screenshots.SHOTS)
    readme = (ROOT / "README.md").read_text()
    for path in written.values():
        assert path.parent == out
        size = path.stat().st_size
        assert 5_000 < size <= MAX_BYTES, f"{path.name}: {size} bytes"
        assert f"docs/{path.name}" in readme, f"the README does not show {path.name}"
    assert png_size(written["phone"]) == (720, 1480)  # 360 CSS px at 2 device pixels each
    assert png_size(written["embedded"]) == (1280, 900)
    assert png_size(written["desktop-light"])[1] > 900  # the whole page
    if out != DOCS:  # a test run: the committed pictures are left as they are
        assert docs_pictures() == committed


FEATURE_SCRIPTS = sorted(path.name for path in DOCS.glob("screenshots_*.py"))


def load_feature_script(name: str):
    """A docs/screenshots_*.py script as a module; they find their shared parts (docs/shooting.py)
    on the import path, as when run from the command line."""
    if str(DOCS) not in sys.path:
        sys.path.insert(0, str(DOCS))
    spec = importlib.util.spec_from_file_location(name.removesuffix(".py"), DOCS / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("script", FEATURE_SCRIPTS)
def test_each_features_pictures_are_made_from_the_code(browser, tmp_path, script):
    module = load_feature_script(script)
    committed = docs_pictures()

    written = module.take_all(browser, tmp_path)

    assert set(written) == set(module.SHOTS)
    readme = (ROOT / "README.md").read_text()
    for path in written.values():
        assert path.parent == tmp_path
        width, height = png_size(path)
        assert width >= 360 and height >= 600, (path.name, width, height)
        assert 5_000 < path.stat().st_size <= MAX_BYTES, path.name
        assert f"docs/{path.name}" in readme, f"the README does not show {path.name}"
    assert docs_pictures() == committed


def test_every_feature_script_is_pictured_here():
    assert {"screenshots_digests.py", "screenshots_fresh_link.py"} <= set(FEATURE_SCRIPTS)
