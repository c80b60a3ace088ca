"""The book builds with Jupyter Book 1, warning-free, with chapter 1 executed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def html(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("book")
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    result = subprocess.run(
        ["jupyter-book", "build", str(REPO), "--path-output", str(out),
         "-W", "-n", "--keep-going"],
        env=env, capture_output=True, text=True, timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    assert "build succeeded" in result.stdout
    assert "warning" not in result.stdout.lower().split("build succeeded")[-1]
    return out / "_build" / "html"


@pytest.mark.slow
def test_every_page_of_the_toc_is_built(html):
    toc = (REPO / "_toc.yml").read_text()
    pages = re.findall(r"(?:root|file):\s*(\S+)", toc)
    assert pages
    for page in pages:
        assert (html / f"{page}.html").is_file(), page


@pytest.mark.slow
def test_chapter_1_is_executed_with_its_figures(html):
    page = (html / "notebooks" / "01_unsupervised_learning.html").read_text()
    figures = re.findall(r'<img[^>]+src="[^"]+\.png"', page)
    assert len(figures) >= 10, f"only {len(figures)} figures rendered"
    assert "digits per class (train): [5923, 6742" in page
    assert "Traceback" not in page and "NotImplementedError" not in page
    for n in range(1, 12):
        assert f"Figure 1.{n}." in page, f"caption of Figure 1.{n} is missing"


@pytest.mark.slow
def test_citations_resolve_to_the_references_page(html):
    references = (html / "book" / "references.html").read_text()
    assert "Classification without labels" in references
    chapter = (html / "notebooks" / "01_unsupervised_learning.html").read_text()
    assert "references.html#id" in chapter or "references.html#" in chapter


@pytest.mark.slow
@pytest.mark.parametrize("notebook", sorted(p.stem for p in (REPO / "notebooks").glob("0*.ipynb")))
def test_every_chapter_is_executed_with_a_rendered_image_per_captioned_figure(html, notebook):
    page = (html / "notebooks" / f"{notebook}.html").read_text()
    source = "\n".join(c.source for c in nbformat.read(REPO / "notebooks" / f"{notebook}.ipynb", 4).cells
                       if c.cell_type == "markdown")
    captions = re.findall(r"\*\*Figure (\d+\.\d+)\.\*\*", source)
    assert captions, f"{notebook} has no captioned figure"
    for number in captions:
        assert f"Figure {number}." in page, f"caption of Figure {number} is missing"
    images = re.findall(r'<img[^>]+src="[^"]+\.png"', page)
    assert len(images) >= len(captions), f"{len(images)} images for {len(captions)} captions"
    assert "Traceback" not in page, f"{notebook} shows an error output"
