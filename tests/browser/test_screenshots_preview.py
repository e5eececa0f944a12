"""The README's pictures of the support preview and of translated names are made from the code
(docs/screenshots_preview.py), here into a temporary folder: the committed ones stay as they are.
Pixels are not compared; a picture missing, empty or not shown in the README fails."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_script():
    path = ROOT / "docs" / "screenshots_preview.py"
    spec = importlib.util.spec_from_file_location("screenshots_preview", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_preview_and_names_pictures_are_made_from_the_code(browser, tmp_path):
    script = load_script()
    written = script.take_all(browser, tmp_path)
    assert set(written) == set(script.SHOTS)
    readme = (ROOT / "README.md").read_text()
    for path in written.values():
        assert path.parent == tmp_path
        assert 5_000 < path.stat().st_size <= 250_000, path.name
        assert f"docs/{path.name}" in readme, f"the README does not show {path.name}"
