"""Opens every page of a built book in headless Chromium and checks what a reader sees.

For each page, at a desktop width (1280 px) and a phone width (420 px): the page does not scroll
sideways and the claims table fits the page's column; at the desktop width also: the main column does not
overflow, every image loaded, no error text or traceback is shown, every figure has a caption (and
every output image sits in a figure, opens at full resolution on click, and its smallest text is at
least 9 px as displayed), every equation was typeset by MathJax, and no link points to a GitHub
repository other than the book's configured one or those its references cite.  At both widths also: the
first page's verdict and scale caveat end inside the first screen (1280x800, 420x900), no title is wider than the
page, no table header breaks mid-word; on the desktop: no code names, Python literals, "(s)" plurals or literal
backticks in the prose, a claims table at most 5,000 px tall.  Across the book: no link to a missing file or anchor
(a static check, no browser needed).  Screenshots of each
page at both widths are saved for people to look at.  Without Chromium the check is skipped with
a message (exit 0), so machines that cannot install it still run the rest of `make test`.

    python scripts/check_book.py runs/book-smoke/book/_build/html --screenshots runs/book-smoke/book/_build/screenshots
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
MARKER = "opgan-browser-check"
WIDTHS = (1280, 420)  # desktop, phone
HEIGHTS = {1280: 800, 420: 900}  # the first screen at each width: the verdict and the scale caveat must fit
# The smallest text of a figure in its PNG: opgan.study.plots.STYLE's 10 pt at the 100 dpi figures are
# drawn with; displayed, it shrinks by the image's scale.
SMALLEST_TEXT_PX = 10 * 100 / 72
MIN_TEXT_PX = 9.0
MAX_CLAIMS_TABLE_PX = 5000  # at the desktop width: a table a reader scrolls through, not a wall
# Runs in the page once it has loaded and MathJax has finished; leaves its findings in the DOM.
PROBE = """
<script>
// Code names, Python literals and plural hedges in what a reader reads as prose (code, equations and
// collapsed outputs excepted): `check_steps`, True, seed(s), a literal backtick.
const IDENTIFIER = /`|\\b(?:True|False)\\b|[A-Za-z]\\(s\\)|\\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\\b/g;
function proseTokens(root) {
  const found = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest("code, pre, script, style, .math, mjx-container, .highlight, .MathJax")) continue;
    if (parent.offsetParent === null && parent.getClientRects().length === 0) continue;
    const text = node.textContent;
    for (const match of text.matchAll(IDENTIFIER)) {
      const context = text.slice(Math.max(0, match.index - 30), match.index + match[0].length + 10).trim();
      found.push(`${match[0]} in “${context}”`);
    }
  }
  return found;
}
// Words of `cells` that the layout broke across two lines ("Reconstructio / n").
function brokenWords(cells) {
  const found = [];
  for (const cell of cells) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.textContent.matchAll(/[^\\s-]+/g)) {  // a break at a hyphen is fine
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
        if (tops.size > 1) found.push(match[0]);
      }
    }
  }
  return found;
}
window.addEventListener("load", async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    try { await MathJax.startup.promise; } catch (error) {}
  }
  await new Promise(resolve => setTimeout(resolve, 300));
  const main = document.querySelector("article.bd-article") || document.querySelector("main") || document.body;
  const shown = element => element.offsetParent !== null || element.getClientRects().length > 0;
  const text = main.innerText || "";
  const report = {
    overflow_px: Math.max(0, main.scrollWidth - main.clientWidth),
    broken_images: [...document.images].filter(img => !(img.complete && img.naturalWidth > 0))
      .map(img => (img.getAttribute("src") || "").slice(0, 80)),
    error_outputs: [...main.querySelectorAll(".output.stderr, .output.traceback, .output.error, .system-message")]
      .filter(shown).map(element => element.innerText.slice(0, 120)),
    traceback: /Traceback \\(most recent call last\\)/.test(text),
    figures: main.querySelectorAll("figure").length,
    figures_without_caption: [...main.querySelectorAll("figure")]
      .filter(figure => !(figure.querySelector("figcaption")
                         && figure.querySelector("figcaption").innerText.trim())).length,
    output_images_outside_figures: [...main.querySelectorAll(".cell_output img")]
      .filter(img => !img.closest("figure")).length,
    page_overflow_px: Math.max(0, document.documentElement.scrollWidth - window.innerWidth),
    claims_cells_cut: [...document.querySelectorAll("table.claims-table td")].filter(shown)
      .filter(cell => cell.getBoundingClientRect().right
                      > Math.min(window.innerWidth, main.getBoundingClientRect().right) + 1).length,
    figure_text_px: [...main.querySelectorAll(".cell_output img")].filter(img => img.naturalWidth > 0)
      .map(img => SMALLEST_TEXT_PX * img.getBoundingClientRect().width / img.naturalWidth),
    figures_not_clickable: [...main.querySelectorAll(".cell_output img")].filter(img => !img.closest("a[href]")).length,
    github_links: [...document.querySelectorAll("a[href*='github.com']")].map(a => a.href),
    equations: main.querySelectorAll(".math").length,
    equations_not_typeset: [...main.querySelectorAll(".math")]
      .filter(math => !math.querySelector("mjx-container")).length,
    // where the first page's verdict and scale caveat end, in px from the top of the page
    first_screen: Object.fromEntries([["verdict", ".opgan-verdict"], ["scale", ".opgan-scale"]]
      .map(([name, selector]) => [name, document.querySelector(selector)])
      .filter(([name, element]) => element)
      .map(([name, element]) => [name, Math.round(element.getBoundingClientRect().bottom + window.scrollY)])),
    viewport_height: window.innerHeight,
    claims_table_px: Math.max(0, ...[...main.querySelectorAll("table.claims-table:not(.protocol-table)")]
      .map(table => Math.round(table.getBoundingClientRect().height))),
    wide_headings: [...main.querySelectorAll("h1")]
      .filter(h => h.scrollWidth > h.clientWidth + 1 || h.getBoundingClientRect().right > window.innerWidth + 1)
      .map(h => h.innerText.slice(0, 60)),
    identifiers: proseTokens(main),
    headers_broken: brokenWords([...main.querySelectorAll("th")].filter(shown)),
  };
  const out = document.createElement("pre");
  out.id = "MARKER";
  out.textContent = JSON.stringify(report);
  document.body.appendChild(out);
});
</script>
""".replace("MARKER", MARKER).replace("SMALLEST_TEXT_PX", str(SMALLEST_TEXT_PX))


def find_browser() -> str | None:
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


def run_browser(
    browser: str, *args: str, timeout: int = 120, width: int = 1280, height: int = 900
) -> subprocess.CompletedProcess:
    # A fresh profile each time, and no background networking: offline machines refuse those
    # connections, and Chromium would keep retrying them.
    with tempfile.TemporaryDirectory(prefix="opgan-chromium-") as profile:
        flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--allow-file-access-from-files",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            "--virtual-time-budget=20000",
        ]
        return subprocess.run([browser, *flags, *args], capture_output=True, text=True, timeout=timeout)


def check_page(browser: str, page: Path, width: int = WIDTHS[0]) -> dict:
    """The probe's findings for one page at a window `width` (an instrumented copy is opened beside
    it, then removed)."""
    probe = page.with_name(f".check-{page.name}")
    source = page.read_text(encoding="utf-8")
    probe.write_text(
        source.replace("</body>", PROBE + "</body>") if "</body>" in source else source + PROBE, encoding="utf-8"
    )
    try:
        dom = run_browser(
            browser, "--dump-dom", probe.resolve().as_uri(), width=width, height=HEIGHTS.get(width, 900)
        ).stdout
    finally:
        probe.unlink(missing_ok=True)
    found = re.search(rf'<pre id="{MARKER}"[^>]*>(.*?)</pre>', dom, flags=re.DOTALL)
    if not found:
        return {"probe_did_not_run": True}
    return json.loads(html.unescape(found.group(1)))


class _Anchors(HTMLParser):
    """A page's link targets (`href`s) and the anchors it offers (`id`s and `name`s)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.anchors: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.anchors.update(value for key in ("id", "name") if (value := attributes.get(key)))
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])


def dead_links(html_folder: Path) -> list[str]:
    """Links of the book's pages to a file of the book that is not there, or to an anchor its page
    does not have (e.g. a figure's click-to-enlarge target, a cross-reference to a renamed section)."""
    parsed: dict[Path, _Anchors] = {}

    def anchors_of(path: Path) -> _Anchors:
        if path not in parsed:
            parser = _Anchors()
            parser.feed(path.read_text(encoding="utf-8", errors="replace"))
            parsed[path] = parser
        return parsed[path]

    found = []
    for page in sorted(html_folder.glob("*.html")):
        for link in anchors_of(page).links:
            target = urlsplit(link)
            if target.scheme or target.netloc or link.startswith(("mailto:", "javascript:")):
                continue
            path = (page.parent / unquote(target.path)).resolve() if target.path else page.resolve()
            if not path.exists():
                found.append(f"{page.name}: {link} (no such file)")
            elif path.suffix == ".html" and unquote(target.fragment or "") not in {"", *anchors_of(path).anchors}:
                found.append(f"{page.name}: {link} (no such anchor)")
    return found


def allowed_repositories(html_folder: Path) -> list[str]:
    """The GitHub addresses a page may link to: the book's configured repository (book/_config.yml)
    and those its references cite (references.bib)."""
    book = html_folder.parent.parent
    allowed = []
    config = book / "_config.yml"
    if config.is_file():
        found = re.search(r"^repository:\s*\n\s+url:\s*(\S+)", config.read_text(encoding="utf-8"), flags=re.MULTILINE)
        if found:
            allowed.append(found.group(1).rstrip("/"))
    bib = book / "references.bib"
    if bib.is_file():
        allowed += re.findall(r"https://github\.com/[\w.-]+/[\w.-]+", bib.read_text(encoding="utf-8"))
    return allowed


def problems(report: dict, width: int = WIDTHS[0], allowed: Sequence[str] = ()) -> list[str]:
    """What a reader would see go wrong at a window `width`, in words (empty when the page is fine)."""
    found = []
    if report.get("probe_did_not_run"):
        return ["the page did not finish loading"]
    if report["page_overflow_px"] > 1:
        found.append(f"the page scrolls sideways by {report['page_overflow_px']} px")
    if report["claims_cells_cut"]:
        found.append(f"{report['claims_cells_cut']} claims-table cell(s) run past the page's column")
    screen = report.get("viewport_height", 0)
    late = {name: bottom for name, bottom in report.get("first_screen", {}).items() if bottom > screen}
    if late:
        found.append(
            "not in the first screen ("
            + f"{screen} px): "
            + ", ".join(f"the {name} ends at {bottom} px" for name, bottom in late.items())
        )
    if report.get("wide_headings"):
        found.append(f"a title wider than the page: {report['wide_headings'][:2]}")
    if report.get("headers_broken"):
        found.append(f"table headers broken mid-word: {sorted(set(report['headers_broken']))[:4]}")
    if width != WIDTHS[0]:  # the rest is about content, the same at every width: checked on the desktop
        return found
    if report.get("claims_table_px", 0) > MAX_CLAIMS_TABLE_PX:
        found.append(f"the claims table is {report['claims_table_px']} px tall (at most {MAX_CLAIMS_TABLE_PX})")
    if report["overflow_px"] > 1:
        found.append(f"the main column overflows by {report['overflow_px']} px")
    if report["broken_images"]:
        found.append(f"{len(report['broken_images'])} image(s) did not load: {report['broken_images'][:3]}")
    if report["error_outputs"] or report["traceback"]:
        found.append(f"error text shown: {report['error_outputs'][:2] or 'a traceback'}")
    if report["figures_without_caption"]:
        found.append(f"{report['figures_without_caption']} figure(s) without a caption")
    if report["output_images_outside_figures"]:
        found.append(f"{report['output_images_outside_figures']} output image(s) not in a captioned figure")
    small = [size for size in report["figure_text_px"] if size < MIN_TEXT_PX]
    if small:
        found.append(
            f"{len(small)} figure(s) with text under {MIN_TEXT_PX:g} px as displayed (smallest {min(small):.1f} px)"
        )
    if report["figures_not_clickable"]:
        found.append(f"{report['figures_not_clickable']} figure(s) do not open at full resolution")
    foreign = sorted({link for link in report["github_links"] if not any(link.startswith(a) for a in allowed)})
    if foreign:
        found.append(f"links to repositories that are not the book's: {foreign[:3]}")
    if report.get("identifiers"):
        found.append(f"code names or literals in the prose: {report['identifiers'][:3]}")
    if report["equations_not_typeset"]:
        found.append(f"{report['equations_not_typeset']} of {report['equations']} equation(s) not typeset")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("html", type=Path, help="the built book's HTML folder (BOOK/_build/html)")
    parser.add_argument("--screenshots", type=Path, help="folder for one PNG per page (default: HTML/../screenshots)")
    args = parser.parse_args(argv)
    browser = find_browser()
    if browser is None:
        print("browser check skipped: no Chromium found (Debian: apt-get install chromium)")
        return 0
    pages = sorted(
        page
        for page in args.html.glob("*.html")
        if page.name not in ("search.html", "genindex.html")
        and 'http-equiv="Refresh"' not in page.read_text(encoding="utf-8")
    )
    if not pages:
        print(f"browser check: no pages in {args.html}")
        return 1
    screenshots = args.screenshots or args.html.parent / "screenshots"
    screenshots.mkdir(parents=True, exist_ok=True)
    allowed = allowed_repositories(args.html)
    failed = 0
    for page in pages:
        found, notes = [], []
        for width in WIDTHS:
            report = check_page(browser, page, width)
            found += [f"{width} px: {problem}" for problem in problems(report, width, allowed)]
            suffix = "" if width == WIDTHS[0] else f"-{width}"
            shot = screenshots / f"{page.stem}{suffix}.png"
            run_browser(browser, f"--screenshot={shot.resolve()}", page.resolve().as_uri(), width=width, height=2400)
            if width == WIDTHS[0]:
                text = report.get("figure_text_px") or []
                notes.append(
                    f"{report.get('figures', 0)} figures"
                    + (f" (smallest text {min(text):.1f} px)" if text else "")
                    + f", {report.get('equations', 0)} equations"
                )
        summary = "; ".join(found) if found else ", ".join(notes)
        print(f"{'ok  ' if not found else 'FAIL'} {page.name}: {summary} (screenshots in {screenshots})")
        failed += bool(found)
    dead = dead_links(args.html)
    for problem in dead:
        print(f"FAIL dead link: {problem}")
    widths = " and ".join(map(str, WIDTHS))
    print(f"browser check: {len(pages) - failed} of {len(pages)} pages fine at {widths} px ({browser})")
    return 1 if failed or dead else 0


if __name__ == "__main__":
    sys.exit(main())
