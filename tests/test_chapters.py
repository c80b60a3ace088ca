"""Every chapter is complete: the pieces that ``utils.chapters`` lists for it exist, and the
registries hold nothing that belongs to no chapter. Each failure names the missing piece."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from utils.chapters import CHAPTERS

REPO = Path(__file__).resolve().parents[1]
TOC_CHAPTERS = re.findall(r"file:\s*notebooks/(\S+)", (REPO / "_toc.yml").read_text())
BY_NOTEBOOK = {c.notebook: c for c in CHAPTERS}


def test_every_chapter_of_the_toc_is_registered_once_in_order():
    assert TOC_CHAPTERS, "no notebooks/ chapter found in _toc.yml"
    missing = [n for n in TOC_CHAPTERS if n not in BY_NOTEBOOK]
    assert not missing, f"chapters of _toc.yml missing from utils/chapters.py CHAPTERS: {missing}"
    extra = [c.notebook for c in CHAPTERS if c.notebook not in TOC_CHAPTERS]
    assert not extra, f"CHAPTERS lists notebooks that _toc.yml does not: {extra}"
    assert [c.notebook for c in CHAPTERS] == TOC_CHAPTERS, "CHAPTERS is not in the order of _toc.yml"
    assert [c.number for c in CHAPTERS] == list(range(1, len(CHAPTERS) + 1))


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.notebook)
def test_a_chapter_has_its_notebook_exercise_bank_targets_recipes_and_readme_row(chapter):
    from grading_bank import BANK
    from utils.evaluate import GROUPS
    from utils.pretrained import RECIPES

    name = f"chapter {chapter.number} ({chapter.notebook})"
    notebook = REPO / "notebooks" / f"{chapter.notebook}.ipynb"
    assert notebook.is_file(), f"{name}: the lecture notebook {notebook.relative_to(REPO)} is missing"
    for folder in ("solutions", "exercises"):
        found = sorted((REPO / folder / chapter.assignment).glob("*.ipynb"))
        assert found, f"{name}: no notebook in {folder}/{chapter.assignment}/"
    assert chapter.assignment in BANK, \
        f"{name}: tests/grading_bank.py BANK has no sample submissions for {chapter.assignment}"

    assert chapter.evaluate or chapter.recipes or chapter.no_networks, \
        f"{name}: no utils.evaluate group, no utils.pretrained recipe and no reason in no_networks"
    source = notebook.read_text()
    for group in chapter.evaluate:
        assert group in GROUPS, f"{name}: utils.evaluate.GROUPS has no group {group!r}"
    for recipe in chapter.recipes:
        assert recipe in RECIPES, f"{name}: utils.pretrained.RECIPES has no recipe {recipe!r}"
        assert recipe in source, f"{name}: the notebook never uses its recipe {recipe!r}"

    readme = (REPO / "README.md").read_text()
    assert re.search(rf"^\| `{chapter.assignment}` \| {chapter.number} \|", readme, re.M), \
        f"{name}: README's table of assignments has no row for {chapter.assignment}"
    for group in chapter.evaluate:
        assert f"python -m utils.evaluate {group}" in readme, \
            f"{name}: README does not show `python -m utils.evaluate {group}`"


def test_every_registered_target_group_and_recipe_belongs_to_a_chapter():
    from utils.evaluate import GROUPS
    from utils.pretrained import RECIPES

    groups = {g for c in CHAPTERS for g in c.evaluate}
    recipes = {r for c in CHAPTERS for r in c.recipes}
    assert not set(GROUPS) - groups, f"evaluate groups of no chapter: {sorted(set(GROUPS) - groups)}"
    assert not set(RECIPES) - recipes, f"recipes of no chapter: {sorted(set(RECIPES) - recipes)}"
