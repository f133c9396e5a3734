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
