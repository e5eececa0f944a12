"""The stylesheet and scripts as browsers get them: compacted, under names that change with them."""

from __future__ import annotations

import re
from pathlib import Path

from prefcenter.platform.assets import compact_css, compact_js

STATIC = Path(__file__).resolve().parent.parent / "static"


def asset_urls(client):
    html = client.get("/").get_data(as_text=True)
    return re.findall(r'(?:href|src)="(/assets/[^"]+)"', html)


def test_the_page_links_compacted_assets_cacheable_for_a_year(signed_in):
    client = signed_in()
    urls = asset_urls(client)
    assert {Path(url).suffix for url in urls} == {".css", ".js"}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200
        assert response.cache_control.max_age == 365 * 24 * 60 * 60
        assert response.cache_control.immutable
        body = response.get_data(as_text=True)
        assert "/*" not in body and "\n//" not in body and "\n  " not in body


def test_the_served_stylesheet_is_the_source_without_comments_or_spare_space(signed_in):
    client = signed_in()
    [css_url] = [url for url in asset_urls(client) if url.endswith(".css")]
    served = client.get(css_url).get_data(as_text=True)
    source = (STATIC / "style.css").read_text()
    assert len(served) < 0.85 * len(source)
    # Every selector of the source is still there, letter for letter.
    for rule in re.findall(
        r"^([.:\[#a-z][^{/]*?)\s*\{", re.sub(r"/\*.*?\*/", "", source, flags=re.S), re.M
    ):
        assert re.sub(r"\s*([,>])\s*", r"\1", rule.strip()) in served


def test_an_unknown_or_stale_asset_name_is_not_found(client):
    assert client.get("/assets/style.000000000000.css").status_code == 404


def test_css_compaction_keeps_descendant_selectors_and_values():
    css = (
        "/* why */\n.a :focus-visible ,\n.b > .c {\n"
        "  margin : 0 auto ;\n  width: calc(100% - 1rem);\n}\n"
    )
    assert compact_css(css) == ".a :focus-visible,.b>.c{margin :0 auto;width:calc(100% - 1rem)}"


def test_js_compaction_drops_only_whole_line_comments():
    js = "// why\nconst a = 'http://x'; // keep\n\n    if (a) {\n      go();\n    }\n"
    assert compact_js(js) == "const a = 'http://x'; // keep\nif (a) {\ngo();\n}\n"
