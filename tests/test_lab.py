"""The student's side in JupyterLab, in a real browser: ``python -m utils.lab`` serves a
copy of the course on 127.0.0.1, headless Chromium (Debian's, driven by Playwright) opens
an exercise, runs it, presses nbgrader's *Validate*, fixes the failing task and validates
again; then it opens an executed lecture notebook and checks that its figures render.

Screenshots go to ``_build/test-artefacts/lab/``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from grading_bank import instructor_answers

REPO = Path(__file__).resolve().parents[1]
ARTEFACTS = REPO / "_build" / "test-artefacts" / "lab"
ASSIGNMENT = "ch03_tools"
LECTURE = "04_elbo.ipynb"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lab(tmp_path_factory, free_port):
    """JupyterLab started by the README's command on a scratch copy of the course, with a
    student's half-done exercise: tasks 1 and 2 answered, task 3 untouched."""
    root = tmp_path_factory.mktemp("student")
    shutil.copy(REPO / "nbgrader_config.py", root)
    folder = root / "exercises" / ASSIGNMENT
    folder.mkdir(parents=True)
    answers = instructor_answers(REPO, ASSIGNMENT)
    nb = nbformat.read(REPO / "exercises" / ASSIGNMENT / "tools.ipynb", as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in ("mask_pixels", "psnr"):
            cell.source = answers[grade_id].strip()
    nbformat.write(nb, folder / "tools.ipynb")
    (root / "notebooks").mkdir()
    shutil.copy(REPO / "notebooks" / LECTURE, root / "notebooks")

    # a private Jupyter configuration: no news pop-up, nothing read from the user's own
    home = tmp_path_factory.mktemp("jupyter")
    settings = home / "lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(home / "lab-settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"))
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    port, token = free_port(), secrets.token_hex(16)
    log = open(home / "lab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "utils.lab", "--root", str(root), "--port", str(port),
         "--token", token, "--no-browser"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # up to 3 minutes on a busy machine
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None:
                    break
                if time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not start: " + (home / "lab.log").read_text()[-3000:])
                time.sleep(0.5)
        assert server.poll() is None, (home / "lab.log").read_text()[-3000:]
        yield {"base": base, "token": token, "root": root, "answers": answers}
    finally:
        os.killpg(server.pid, 15)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
        log.close()


def _open_notebook(browser, lab, path: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    # a fresh workspace per page: no tabs restored from the previous test
    page.goto(f"{lab['base']}/lab/tree/{path}?reset&token={lab['token']}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=180_000)
    # the kernel is ready when the status bar says Idle
    page.wait_for_selector("text=| Idle", timeout=180_000)
    return page, errors


def _run_all(page) -> None:
    page.click(".lm-MenuBar-itemLabel:text-is('Run')")
    page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
    page.wait_for_function(
        "() => !Array.from(document.querySelectorAll('.jp-InputArea-prompt'))"
        ".some(p => p.textContent.includes('[*]'))", timeout=120_000)
    page.wait_for_selector("text=| Idle", timeout=60_000)


def _validate(page) -> str:
    page.click("jp-button:has-text('Validate'), button:has-text('Validate')")
    dialog = page.wait_for_selector(".jp-Dialog-content", timeout=120_000)
    page.wait_for_function(
        "() => { const d = document.querySelector('.jp-Dialog-content');"
        " return d && !/validating/i.test(d.innerText); }", timeout=120_000)
    text = dialog.inner_text()
    return text


def _close_dialog(page) -> None:
    page.click(".jp-Dialog-footer button")
    page.wait_for_selector(".jp-Dialog", state="detached", timeout=10_000)


def _read_notebook(path: Path):
    """The notebook on disk, or None while it is being written. jupyter_server saves in
    place (its atomic writing keeps a backup copy, not a renamed temporary file), and
    JupyterLab may autosave at any moment, so a read can meet an empty or half-written
    file: that is a 'not yet', not a failure."""
    try:
        return nbformat.read(path, as_version=4)
    except (OSError, ValueError, nbformat.ValidationError):  # NotJSONError is a ValueError
        return None


def _wait_until_saved(page, path: Path, done, timeout_ms: int = 120_000) -> bool:
    """Wait until JupyterLab reports the document saved (the tab loses its dirty mark,
    which happens when the contents API has answered the PUT) and the file on disk parses
    and satisfies ``done``."""
    page.wait_for_selector(".lm-TabBar-tab.jp-mod-dirty", state="detached", timeout=timeout_ms)
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        nb = _read_notebook(path)
        if nb is not None and done(nb):
            return True
        page.wait_for_timeout(250)
    return False


def _cell(page, index: int):
    return page.locator(".jp-Notebook .jp-Cell").nth(index)


def test_a_student_runs_an_exercise_and_validates_it(browser, lab):
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page, errors = _open_notebook(browser, lab, f"exercises/{ASSIGNMENT}/tools.ipynb")
    try:
        # nbgrader's extensions are there: the Validate button and the Nbgrader menu
        assert page.locator("jp-button:has-text('Validate'), button:has-text('Validate')").count() == 1
        assert page.locator(".lm-MenuBar-itemLabel:text-is('Nbgrader')").count() == 1

        _run_all(page)
        page.screenshot(path=str(ARTEFACTS / "exercise_run.png"), full_page=True)
        outputs = page.locator(".jp-Notebook").inner_text()
        assert "NotImplementedError" in outputs, "task 3 is untouched and must raise"
        assert "AssertionError" not in outputs, "tasks 1 and 2 are answered correctly"

        text = _validate(page)
        page.screenshot(path=str(ARTEFACTS / "validate_failed.png"))
        assert "NotImplementedError" in text, text
        assert "roc_points" in text or "area_under_curve" in text, text
        assert "Success" not in text
        _close_dialog(page)

        # the student answers task 3 in the browser and validates again
        nb = nbformat.read(REPO / "exercises" / ASSIGNMENT / "tools.ipynb", as_version=4)
        (index,) = [i for i, c in enumerate(nb.cells)
                    if c.metadata.get("nbgrader", {}).get("grade_id") == "roc"]
        editor = _cell(page, index).locator(".cm-content")
        editor.click()
        page.keyboard.press("Control+a")
        page.keyboard.insert_text(lab["answers"]["roc"].strip())
        page.keyboard.press("Escape")
        page.click("[data-command='docmanager:save']")
        path = lab["root"] / "exercises" / ASSIGNMENT / "tools.ipynb"
        saved = _wait_until_saved(page, path, lambda nb: "def roc_points" in nb.cells[index].source)
        assert saved, "the edited notebook was not saved"

        text = _validate(page)
        page.screenshot(path=str(ARTEFACTS / "validate_passed.png"))
        assert "Success! Your notebook passes all the tests." in text, text
        _close_dialog(page)
        assert not errors, f"JavaScript errors: {errors}"
    finally:
        page.close()


def test_an_executed_lecture_notebook_shows_its_figures(browser, lab):
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page, errors = _open_notebook(browser, lab, f"notebooks/{LECTURE}")
    try:
        expected = sum(1 for c in nbformat.read(REPO / "notebooks" / LECTURE, as_version=4).cells
                       if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {}))
        assert expected >= 4
        # JupyterLab renders cells lazily (and slower on a busy machine): keep scrolling
        # down until every output is attached and every image has loaded, or time runs out
        images = page.locator(".jp-OutputArea-output img")
        loaded = "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            page.mouse.wheel(0, 1500)
            page.wait_for_timeout(200)
            if images.count() >= expected and all(done for done, _, _ in images.evaluate_all(loaded)):
                break
        assert images.count() == expected, (images.count(), expected)
        sizes = images.evaluate_all(loaded)
        assert all(done and w > 100 and h > 100 for done, w, h in sizes), sizes
        stderr = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        assert stderr.count() == 0, stderr.all_inner_texts()
        images.first.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTEFACTS / "lecture.png"))
        assert not errors, f"JavaScript errors: {errors}"
    finally:
        page.close()


def test_a_busy_port_makes_the_lab_take_the_next_free_one():
    import socket

    from utils.lab import first_free_port

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        chosen = first_free_port(taken)
        assert chosen > taken
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as check:
            check.bind(("127.0.0.1", chosen))  # really free
        with pytest.raises(OSError, match="no free port"):
            first_free_port(taken, tries=1)
