"""Every chapter is complete: the pieces that ``utils.chapters`` lists for it exist, and the
registries hold nothing that belongs to no chapter. Each failure names the missing piece."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from utils.chapters import CHAPTERS

REPO = Path(__file__).resolve().parents[1]
# lecture chapters: every notebook of _toc.yml except the appendices (notebooks/appendix_*)
TOC_CHAPTERS = [name for name in re.findall(r"file:\s*notebooks/(\S+)", (REPO / "_toc.yml").read_text())
                if not name.startswith("appendix_")]
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
def test_a_chapter_has_its_notebook_exercise_bank_module_and_readme_row(chapter):
    from grading_bank import BANK

    name = f"chapter {chapter.number} ({chapter.notebook})"
    notebook = REPO / "notebooks" / f"{chapter.notebook}.ipynb"
    assert notebook.is_file(), f"{name}: the lecture notebook {notebook.relative_to(REPO)} is missing"
    for folder in ("solutions", "exercises"):
        found = sorted((REPO / folder / chapter.assignment).glob("*.ipynb"))
        assert found, f"{name}: no notebook in {folder}/{chapter.assignment}/"
    assert chapter.assignment in BANK, \
        f"{name}: tests/grading_bank.py BANK has no sample submissions for {chapter.assignment}"
    readme = (REPO / "README.md").read_text()
    assert re.search(rf"^\| `{chapter.assignment}` \| {chapter.number} \|", readme, re.M), \
        f"{name}: README's table of assignments has no row for {chapter.assignment}"

    assert bool(chapter.module) != bool(chapter.no_networks), \
        f"{name}: give it a module in utils/chapters/ or say in no_networks why it has none"
    if not chapter.module:
        return
    path = REPO / "utils" / "chapters" / f"{chapter.module}.py"
    assert path.is_file(), f"{name}: its module {path.relative_to(REPO)} is missing"
    assert chapter.module.startswith(f"ch{chapter.number:02d}_"), \
        f"{name}: its module should be named ch{chapter.number:02d}_<topic>"
    module = chapter.load()
    for attribute in ("RECIPES", "COMMITTED", "EVALUATE_GROUP", "targets"):
        assert hasattr(module, attribute), f"{name}: {chapter.module} has no {attribute}"
    source = notebook.read_text()
    assert f"utils.chapters.{chapter.module}" in source, \
        f"{name}: the notebook never imports utils.chapters.{chapter.module}"
    for recipe in module.RECIPES:
        assert recipe in source, f"{name}: the notebook never uses its recipe {recipe!r}"
    for recipe, _, _ in module.COMMITTED:
        assert recipe in module.RECIPES, f"{name}: COMMITTED names {recipe!r}, not in RECIPES"
    assert f"python -m utils.evaluate {module.EVALUATE_GROUP}" in readme, \
        f"{name}: README does not show `python -m utils.evaluate {module.EVALUATE_GROUP}`"


def test_registries_are_the_union_of_the_chapter_modules():
    from utils.chapters import chapter_modules
    from utils.evaluate import GROUPS
    from utils.pretrained import RECIPES

    modules = chapter_modules()
    assert RECIPES == {k: v for m in modules for k, v in m.RECIPES.items()}
    assert set(GROUPS) == {m.EVALUATE_GROUP for m in modules}


def test_every_committed_checkpoint_loads_without_retraining_and_none_is_orphaned(monkeypatch):
    """Full mode, with training forbidden: every network a chapter lists in COMMITTED loads
    from its committed checkpoint (config equal field by field), and every committed file
    belongs to one of them."""
    import utils.train
    from utils.chapters import chapter_modules
    from utils.storage import checkpoint_dir

    monkeypatch.delenv("COURSE_CHECKPOINT_DIR", raising=False)
    monkeypatch.setattr(utils.train, "save_checkpoint",
                        lambda path, *a, **k: pytest.fail(f"retrained {path}"))
    loaded = set()
    real = utils.train.load_matching_checkpoint

    def spy(path, model, config):
        history = real(path, model, config)
        if history is not None:
            loaded.add(Path(path).name)
        return history

    monkeypatch.setattr(utils.train, "load_matching_checkpoint", spy)
    for module in chapter_modules():
        for recipe, args, kwargs in module.COMMITTED:
            module.RECIPES[recipe](*args, **kwargs, fast=False, device="cpu")
    committed = {p.name for p in checkpoint_dir().glob("*.pt")}
    assert not committed - loaded, f"checkpoints that no chapter lists: {sorted(committed - loaded)}"
    assert len(loaded) == sum(len(m.COMMITTED) for m in chapter_modules())
