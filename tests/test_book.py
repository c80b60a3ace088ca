"""The book builds with Jupyter Book 1, warning-free, with every chapter executed (the
``html`` fixture in conftest.py builds it once per test session)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]


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


@pytest.mark.slow
def test_build_page_lists_the_environment_and_the_execution_of_every_chapter(html):
    page = (html / "book" / "build.html").read_text()
    assert re.search(r"torch\s+2\.\d+", page), "package versions are missing"
    assert "fast mode:" in page and "Using " in page  # the device line of describe_device
    for notebook in sorted(p.stem for p in (REPO / "notebooks").glob("0*.ipynb")):
        assert f"notebooks/{notebook}" in page, f"{notebook} is missing from the execution table"


@pytest.mark.parametrize("notebook", sorted(p.stem for p in (REPO / "notebooks").glob("0*.ipynb")))
def test_every_chapter_says_what_you_learn_and_ends_with_downloadable_exercises(notebook):
    cells = [c for c in nbformat.read(REPO / "notebooks" / f"{notebook}.ipynb", 4).cells
             if c.cell_type == "markdown"]
    assert "You will learn" in cells[0].source
    tail = "\n".join(c.source for c in cells[-2:])
    assert "## Exercises" in tail, f"{notebook} does not end with an Exercises section"
    downloads = re.findall(r"\{download\}`[^<`]*<\.\./(exercises/[^>]+)>`", tail)
    assert downloads, f"{notebook} offers no exercise download"
    for path in downloads:
        assert (REPO / path).is_file(), path
