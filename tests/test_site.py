"""The built book as a reader sees it: every page served over HTTP on 127.0.0.1 and opened
in headless Chromium (Debian's ``chromium`` package, driven by Playwright; no browser is
ever downloaded), plus a link check over the built HTML.

Screenshots of every page go to ``_build/test-artefacts/screenshots/``, a PDF of two
chapters to ``_build/test-artefacts/``. Without Chromium
these tests skip, unless ``COURSE_REQUIRE_BROWSER=1`` (set by ``.ci/run``) makes that a
failure.
"""

from __future__ import annotations

import functools
import html.parser
import io
import re
import urllib.parse
from pathlib import Path

import pytest

from utils.book_pdf import print_pages, serve_directory, toc_pages, wait_for_math

REPO = Path(__file__).resolve().parents[1]
ARTEFACTS = REPO / "_build" / "test-artefacts"
PAGES = toc_pages(REPO)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(html) -> str:
    """The built book served on a free port of 127.0.0.1; yields its base URL."""
    with serve_directory(html) as base:
        yield base


class PageLog:
    """What a page did while loading: console errors, failed and outside requests."""

    def __init__(self, page, base: str):
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.outside: list[str] = []
        host = urllib.parse.urlparse(base).netloc
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        page.on("response", lambda r: self.failed.append(f"{r.url} ({r.status})") if r.status >= 400 else None)
        page.on("request", lambda r: self.outside.append(r.url)
                if urllib.parse.urlparse(r.url).scheme in ("http", "https", "ws", "wss")
                and urllib.parse.urlparse(r.url).netloc != host else None)


def _open(browser, site: str, path: str):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log = PageLog(page, site)
    page.goto(f"{site}/{path}", wait_until="networkidle")
    wait_for_math(page)  # MathJax typesets after the page has loaded
    return page, log


@pytest.mark.parametrize("name", PAGES)
def test_page_renders_offline_with_math_figures_and_no_errors(site, browser, name):
    page, log = _open(browser, site, f"{name}.html")
    try:
        (ARTEFACTS / "screenshots").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTEFACTS / "screenshots" / f"{name.replace('/', '__')}.png"))
        assert not log.outside, f"requests left the machine: {log.outside}"
        assert not log.failed, f"failed requests: {log.failed}"
        assert not log.errors, f"console errors: {log.errors}"

        equations = page.locator("div.math").count()
        typeset = page.locator("div.math mjx-container").count()
        assert typeset == equations, f"{equations - typeset} of {equations} display equations not rendered"
        inline = page.locator("span.math").count()
        assert page.locator("span.math mjx-container").count() == inline
        text = page.inner_text("main")
        for raw in ("$$", "\\[", "\\("):
            assert raw not in text, f"unrendered math {raw!r} in the text"

        broken = page.evaluate(
            "() => Array.from(document.images)"
            ".filter(i => !(i.complete && i.naturalWidth > 0 && i.naturalHeight > 0)).map(i => i.src)"
        )
        assert not broken, f"images that did not load: {broken}"
        assert page.locator(".cell_output .output.error, .cell_output .output.traceback").count() == 0
        assert "Traceback (most recent call last)" not in text
    finally:
        page.close()


def test_the_elbo_chapter_has_its_title_sections_figures_and_math(site, browser):
    page, _ = _open(browser, site, "notebooks/04_elbo.html")
    try:
        assert page.title().startswith("4. The evidence lower bound")
        assert page.locator("h1").first.inner_text().startswith("4. The evidence lower bound")
        sections = [h.strip("#¶ \n") for h in page.locator("main h2").all_inner_texts()]
        for expected in ("The Kullback-Leibler divergence", "The ELBO identity",
                         "The reparametrization trick", "Summary", "Exercises"):
            assert expected in sections, sections
        figures = page.locator(".cell_output img").count()
        captions = len(re.findall(r"Figure 4\.\d+\.", page.inner_text("main")))
        assert captions == 4 and figures >= captions, (figures, captions)
        assert page.locator("div.math mjx-container").count() >= 10
    finally:
        page.close()


def test_search_finds_the_reparametrization_trick(site, browser):
    page, log = _open(browser, site, "search.html?q=reparametrization")
    try:
        page.wait_for_selector("#search-results li a", timeout=20_000)
        hits = page.eval_on_selector_all("#search-results li a", "links => links.map(a => a.href)")
        assert any("notebooks/04_elbo.html" in h for h in hits), hits
        assert not log.outside and not log.failed
    finally:
        page.close()


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        if tag in ("a", "link") and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        if tag in ("img", "script") and attrs.get("src"):
            self.hrefs.append(attrs["src"])


@functools.lru_cache(maxsize=None)
def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_internal_links_and_anchors_resolve(html):
    broken = []
    for name in PAGES:
        source = html / f"{name}.html"
        for href in _parse(source).hrefs:
            url = urllib.parse.urlparse(href)
            if url.scheme or href.startswith(("//", "mailto:", "javascript:")):
                continue  # external: not checked offline
            target = (source.parent / urllib.parse.unquote(url.path)).resolve() if url.path else source
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{name}: {href} (no file)")
            elif url.fragment and target.suffix == ".html" and url.fragment not in _parse(target).ids:
                broken.append(f"{name}: {href} (no anchor)")
    assert not broken, "\n".join(broken)


def test_chapters_print_to_a_pdf_with_their_math(site, browser):
    """The PDF route of ``python -m utils.book_pdf``, on two chapters."""
    from pypdf import PdfReader

    data = print_pages(browser, site, ["book/intro", "notebooks/04_elbo"])
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    (ARTEFACTS / "intro_and_elbo.pdf").write_bytes(data)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 8
    assert [item.title for item in reader.outline] == ["book/intro", "notebooks/04_elbo"]
    # line breaks of the printed page become spaces; code cells may quote TeX in plot
    # labels, so typesetting itself is checked in the browser test of every page
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert "The evidence lower bound" in text and "Figure 4.4." in text
    assert "$$" not in text, "display math printed as TeX source"


def test_feedback_pages_render_math_offline(tmp_path, browser):
    """nbgrader's feedback template loads MathJax from a CDN through nbconvert's mathjax()
    macro; utils.grading.localize_mathjax swaps in the local copy. Render that macro,
    localise the page and typeset it in Chromium from the disk, with no server at all."""
    from nbconvert.exporters import HTMLExporter

    from utils.grading import localize_mathjax

    template = HTMLExporter().environment.from_string(
        '{% from "mathjax.html.j2" import mathjax %}<html><head>{{ mathjax() }}</head><body>'
        r'<p>Inline $\mathbb{E}_q[\log p(x \mid z)]$ and</p><p>$$\int_0^1 x\,dx = \frac{1}{2}$$</p>'
        "</body></html>"
    )
    folder = tmp_path / "feedback" / "alice" / "ch04_elbo"
    folder.mkdir(parents=True)
    page_path = folder / "elbo.html"
    page_path.write_text(template.render())
    assert "cdnjs" in page_path.read_text()  # what nbgrader writes
    assert localize_mathjax(tmp_path / "feedback") == 1
    assert "cdnjs" not in page_path.read_text()

    page = browser.new_page()
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith("file://") else None)
    try:
        page.goto(page_path.as_uri(), wait_until="load")
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("() => MathJax.startup.promise")
        assert page.locator("mjx-container").count() == 2
        assert page.locator("mjx-container svg").count() == 2
        assert not outside, outside
    finally:
        page.close()
