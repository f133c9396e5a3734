"""The book's browser check finds what a reader would see go wrong (needs Chromium; skipped without)."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("check_book", ROOT / "scripts" / "check_book.py")
check_book = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_book)
BROWSER = check_book.find_browser()

PAGE = """<!DOCTYPE html><html><head><style>article {{ width: 600px; }}</style></head><body>
<article class="bd-article">{body}</article></body></html>"""


@pytest.mark.skipif(BROWSER is None, reason="no Chromium on this machine (apt-get install chromium)")
@pytest.mark.slow
def test_a_broken_page_fails_and_a_clean_one_passes(tmp_path):
    from PIL import Image

    Image.new("RGB", (40, 30), "white").save(tmp_path / "ok.png")
    clean = tmp_path / "clean.html"
    clean.write_text(
        PAGE.format(body='<figure><img src="ok.png"><figcaption>Figure 1: a caption.</figcaption></figure><p>text</p>')
    )
    assert check_book.problems(check_book.check_page(BROWSER, clean)) == []
    broken = tmp_path / "broken.html"
    broken.write_text(
        PAGE.format(
            body=(
                '<div style="width: 2000px">a table too wide</div>'
                '<figure><img src="missing.png"></figure>'
                '<div class="cell_output"><img src="ok.png"></div>'
                "<pre>Traceback (most recent call last):\n  ValueError</pre>"
            )
        )
    )
    found = " | ".join(check_book.problems(check_book.check_page(BROWSER, broken)))
    for words in ("overflows", "did not load", "error text", "without a caption", "not in a captioned figure"):
        assert words in found, found


@pytest.mark.skipif(BROWSER is None, reason="no Chromium on this machine (apt-get install chromium)")
@pytest.mark.slow
def test_figures_links_and_the_claims_table_are_checked_at_both_widths(tmp_path):
    from PIL import Image

    Image.new("RGB", (1600, 300), "white").save(tmp_path / "wide.png")  # shown at 600 px: text shrinks 2.7x
    Image.new("RGB", (500, 300), "white").save(tmp_path / "small.png")
    figure = '<figure><div class="cell_output">{image}</div><figcaption>Figure 1: a caption.</figcaption></figure>'
    table = '<table class="claims-table"><tr><td style="min-width: {width}px">a claim</td></tr></table>'

    def page(name: str, image: str, table_width: int, link: str) -> Path:
        path = tmp_path / f"{name}.html"
        body = figure.format(image=image) + table.format(width=table_width) + f'<a href="{link}">a repository</a>'
        path.write_text(PAGE.replace("width: 600px", "max-width: 600px").format(body=body))
        return path

    allowed = ["https://github.com/yohan-pg/stylegan2-ada-pytorch"]
    clean = page("clean", '<a href="small.png"><img src="small.png" style="max-width: 100%"></a>', 100, allowed[0])
    for width in check_book.WIDTHS:
        assert check_book.problems(check_book.check_page(BROWSER, clean, width), width, allowed) == [], width
    broken = page("broken", '<img src="wide.png" style="width: 100%">', 800, "https://github.com/someone-else/opgan")
    desktop = " | ".join(check_book.problems(check_book.check_page(BROWSER, broken, 1280), 1280, allowed))
    for words in ("text under 9 px", "do not open at full resolution", "someone-else"):
        assert words in desktop, desktop
    phone = " | ".join(check_book.problems(check_book.check_page(BROWSER, broken, 420), 420, allowed))
    assert "claims-table cell(s) run past the page's column" in phone and "scrolls sideways" in phone, phone


@pytest.mark.skipif(BROWSER is None, reason="no Chromium on this machine (apt-get install chromium)")
@pytest.mark.slow
def test_first_screen_titles_prose_and_headers_are_checked(tmp_path):
    def page(name: str, body: str) -> Path:
        path = tmp_path / f"{name}.html"
        path.write_text(PAGE.replace("width: 600px", "max-width: 600px").format(body=body))
        return path

    verdict = '<div class="opgan-verdict"><p>The verdict.</p></div><div class="opgan-scale"><p>The scale.</p></div>'
    clean = page("clean", "<h1>A title</h1>" + verdict + "<table><tr><th>a header</th></tr></table><p>prose</p>")
    for width in check_book.WIDTHS:
        assert check_book.problems(check_book.check_page(BROWSER, clean, width), width) == [], width
    broken = page(
        "broken",
        '<h1 style="overflow: hidden; white-space: nowrap">Reconstructionvsoverparameterizationreproducedhere</h1>'
        '<div style="height: 1200px">a long preface</div>'
        + verdict
        + '<table style="width: 60px"><tr><th style="overflow-wrap: anywhere">Reconstruction</th></tr></table>'
        "<p>run with `check_steps` = 600, shown True for 8 seed(s)</p><pre>code_names are fine in code</pre>"
        '<table class="claims-table"><tr><td style="height: 6000px">a wall of claims</td></tr></table>',
    )
    for width in check_book.WIDTHS:
        found = " | ".join(check_book.problems(check_book.check_page(BROWSER, broken, width), width))
        for words in ("the verdict ends at", "the scale ends at", "a title wider than the page", "broken mid-word"):
            assert words in found, (width, found)
    found = " | ".join(check_book.problems(check_book.check_page(BROWSER, broken, 1280), 1280))
    assert "code names or literals in the prose" in found and "code_names" not in found, found
    assert "the claims table is 60" in found, found
    tokens = [found.split(" in “")[0] for found in check_book.check_page(BROWSER, broken, 1280)["identifiers"]]
    assert sorted(tokens) == sorted(["`", "check_steps", "`", "True", "d(s)"]), tokens


def test_dead_links_are_found(tmp_path):
    (tmp_path / "a.html").write_text(
        '<html><body><h2 id="here">x</h2><a href="#here">ok</a><a href="b.html#there">ok</a>'
        '<a href="b.html#gone">dead anchor</a><a href="results/forest.png">dead file</a>'
        '<a href="https://example.org/x#y">outside</a></body></html>'
    )
    (tmp_path / "b.html").write_text('<html><body><span id="there"></span></body></html>')
    found = check_book.dead_links(tmp_path)
    assert found == ["a.html: b.html#gone (no such anchor)", "a.html: results/forest.png (no such file)"], found
