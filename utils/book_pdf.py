"""Print the built book to one PDF with headless Chromium.

    .venv/bin/python -m utils.book_pdf                 # _build/html -> _build/pdf/book.pdf
    .venv/bin/python -m utils.book_pdf --html DIR --out FILE.pdf

Serves the built site on 127.0.0.1, opens every page of ``_toc.yml`` in Debian's Chromium
(driven by Playwright; no browser is downloaded), waits until MathJax has typeset the page,
prints it to A4 with the theme's print style (no sidebars) and joins the pages, in the
order of the table of contents, with pypdf. Needs ``sudo apt-get install chromium``; no
TeX installation is involved.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import io
import re
import shutil
import threading
from pathlib import Path
from typing import Iterator

from utils.storage import course_home

REPO = course_home()
# Chromium as root in a container with a closed network: no sandbox, and none of the
# background requests to Google's services (they would be refused and logged as errors).
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def find_chromium() -> str | None:
    """Path of the system Chromium, or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def toc_pages(repo: Path = REPO) -> list[str]:
    """The pages of ``_toc.yml`` in reading order, without suffix (e.g. ``book/intro``)."""
    return re.findall(r"(?:root|file):\s*(\S+)", (repo / "_toc.yml").read_text())


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def serve_directory(directory: Path) -> Iterator[str]:
    """Serve ``directory`` over HTTP on a free port of 127.0.0.1; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def wait_for_math(page) -> None:
    """Wait until MathJax (if the page loads it) has finished typesetting."""
    page.wait_for_function("() => !window.MathJax || (MathJax.startup && MathJax.startup.promise)")
    page.evaluate("() => window.MathJax ? MathJax.startup.promise : null")


def print_pages(browser, base_url: str, pages: list[str]) -> bytes:
    """One PDF (bytes) of ``pages`` of the site at ``base_url``, in that order."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for name in pages:
        page = browser.new_page()
        try:
            page.goto(f"{base_url}/{name}.html", wait_until="networkidle")
            wait_for_math(page)
            page.emulate_media(media="print")
            pdf = page.pdf(format="A4", print_background=True,
                           margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"})
        finally:
            page.close()
        writer.append(io.BytesIO(pdf), outline_item=name)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def build_pdf(html: Path, out: Path, pages: list[str] | None = None) -> Path:
    """Print the built site in ``html`` to ``out``; returns ``out``."""
    from playwright.sync_api import sync_playwright

    executable = find_chromium()
    if executable is None:
        raise RuntimeError("Chromium is not installed: sudo apt-get install chromium")
    if not (html / "index.html").exists():
        raise FileNotFoundError(
            f"no built book in {html}: build it first with "
            "`.venv/bin/jupyter-book build . -W -n --keep-going`"
        )
    pages = toc_pages() if pages is None else pages
    with serve_directory(html) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            data = print_pages(browser, base, pages)
        finally:
            browser.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, default=REPO / "_build" / "html")
    parser.add_argument("--out", type=Path, default=REPO / "_build" / "pdf" / "book.pdf")
    args = parser.parse_args(argv)
    path = build_pdf(args.html, args.out)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
