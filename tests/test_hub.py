"""A class on JupyterHub, end to end: a real hub (``hub/jupyterhub_config.py``, the
configurable-http-proxy from ``hub/node_modules``) on 127.0.0.1 with one instructor and two
students, and the whole assignment cycle through nbgrader's exchange, each step an HTTP
request to that user's own single-user server through the hub's proxy:

instructor generates and releases -> students fetch, answer (through the contents API)
and submit -> instructor collects, autogrades, generates and releases feedback -> students
fetch their feedback. Scores and feedback must be the expected ones, and the hub and every
process it started (proxy, servers, kernels) are stopped at the end, whatever happens.

The hub uses the dummy authenticator and the simple local spawner: every server runs as
the test's own Unix user, with its home under the hub's temporary folder, and nbgrader
tells the users apart by the hub's user name (``hub/nbgrader_config.py``), as it does on
Zero to JupyterHub, where every pod runs as ``jovyan``.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from grading_bank import BANK, hidden_test_lines, instructor_answers, notebook_name

REPO = Path(__file__).resolve().parents[1]
PROXY = REPO / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"
COURSE_ID = "aevae-physics"
ASSIGNMENT = "ch03_tools"
INSTRUCTOR, STUDENTS = "instructor", ("alice", "bob")

pytestmark = pytest.mark.slow


def _hub_processes(marker: str) -> list[int]:
    """PIDs whose environment carries this hub's COURSE_HUB_DIR."""
    needle = f"COURSE_HUB_DIR={marker}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if needle in (entry / "environ").read_bytes().split(b"\0"):
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


class Hub:
    def __init__(self, base: str, token: str):
        self.base, self.token = base, token

    def request(self, method: str, path: str, data: dict | None = None, form: dict | None = None,
                timeout: float = 600) -> dict | list | str:
        body, headers = None, {"Authorization": f"token {self.token}"}
        if data is not None:
            body, headers["Content-Type"] = json.dumps(data).encode(), "application/json"
        elif form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif method in ("POST", "PUT"):
            body = b""
        req = urllib.request.Request(self.base + path, data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as error:
            raise AssertionError(f"{method} {path}: {error.code} {error.read().decode()[:2000]}") from None
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text

    def start_server(self, user: str) -> None:
        self.request("POST", f"/hub/api/users/{user}/server")
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            model = self.request("GET", f"/hub/api/users/{user}")
            server = model.get("servers", {}).get("")
            if server and server.get("ready"):
                return
            time.sleep(0.5)
        raise AssertionError(f"{user}'s server did not start: {model}")

    def action(self, user: str, action: str) -> dict:
        """A student's nbgrader exchange action (fetch, submit, fetch_feedback)."""
        result = self.request("POST", f"/user/{user}/assignments/{action}",
                              form={"course_id": COURSE_ID, "assignment_id": ASSIGNMENT})
        assert result.get("success"), (user, action, result)
        return result

    def formgrader(self, path: str) -> dict:
        result = self.request("POST", f"/user/{INSTRUCTOR}/formgrader/api/{path}")
        assert result.get("success"), (path, result)
        return result


def _start_hub(state: Path, log, free_port) -> tuple[subprocess.Popen, Hub]:
    """jupyterhub with the course's configuration on free ports of 127.0.0.1."""
    token, port = os.urandom(16).hex(), free_port()
    env = {
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(state), "LANG": "C.UTF-8",
        "COURSE_HUB_DIR": str(state), "COURSE_HUB_AUTH": "dummy", "COURSE_HUB_PORT": str(port),
        "COURSE_HUB_INTERNAL_PORT": str(free_port()), "COURSE_HUB_PROXY_API_PORT": str(free_port()),
        "COURSE_ID": COURSE_ID, "COURSE_EXCHANGE": str(state / "exchange"),
        "COURSE_INSTRUCTORS": INSTRUCTOR, "COURSE_STUDENTS": ",".join(STUDENTS),
        "COURSE_HUB_SERVICE_TOKEN": token,
    }
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(REPO / "hub" / "jupyterhub_config.py")],
        cwd=state, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    hub = Hub(f"http://127.0.0.1:{port}", token)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            hub.request("GET", "/hub/api/", timeout=2)
            return process, hub
        except (OSError, AssertionError):
            if process.poll() is not None:
                break
            time.sleep(0.5)
    raise AssertionError("the hub did not start:\n" + (state / "hub.log").read_text()[-4000:])


def _stop_hub(process: subprocess.Popen | None, state: Path) -> list[int]:
    """Stop the hub (it stops the servers and the proxy); kill whatever it left behind.
    Returns the processes that outlived the hub's own shutdown."""
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    deadline = time.monotonic() + 60  # servers may take a while to exit on a busy machine
    while time.monotonic() < deadline:
        left = _hub_processes(str(state))
        if not left:
            break
        time.sleep(0.5)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return left


def test_a_class_on_jupyterhub_goes_through_the_whole_assignment_cycle(free_port):
    if not PROXY.exists():
        pytest.fail(f"{PROXY} is missing: npm ci --prefix hub")
    state = Path(tempfile.mkdtemp(prefix="aevae-hub-"))
    course = state / "home" / INSTRUCTOR / "course"
    course.mkdir(parents=True)
    shutil.copy(REPO / "nbgrader_config.py", course)
    shutil.copytree(REPO / "solutions" / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
    exchange = state / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)
    process, log = None, open(state / "hub.log", "w")
    try:
        process, hub = _start_hub(state, log, free_port)
        users = {u["name"]: u for u in hub.request("GET", "/hub/api/users")}
        assert set(users) == {INSTRUCTOR, *STUDENTS}
        assert users[INSTRUCTOR]["admin"] and not users["alice"]["admin"]
        for user in (INSTRUCTOR, *STUDENTS):
            hub.start_server(user)

        # the instructor generates the student version and releases it to the exchange
        hub.formgrader(f"assignment/{ASSIGNMENT}/assign")
        hub.formgrader(f"assignment/{ASSIGNMENT}/release")
        assert (exchange / COURSE_ID / "outbound" / ASSIGNMENT / notebook_name(ASSIGNMENT)).is_file()

        # students fetch it, answer through the contents API as JupyterLab would, and submit
        listed = hub.request("GET", f"/user/alice/assignments?course_id={COURSE_ID}")
        assert any(a["assignment_id"] == ASSIGNMENT and a["status"] == "released" for a in listed["value"]), listed
        answers = {
            "alice": instructor_answers(REPO, ASSIGNMENT),  # correct
            "bob": instructor_answers(REPO, ASSIGNMENT) | next(
                s.answers for s in BANK[ASSIGNMENT] if s.student == "dan"),  # fails a hidden test
        }
        path = f"{ASSIGNMENT}/{notebook_name(ASSIGNMENT)}"
        for student in STUDENTS:
            hub.action(student, "fetch")
            model = hub.request("GET", f"/user/{student}/api/contents/{path}?content=1")
            for cell in model["content"]["cells"]:
                grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
                if grade_id in answers[student]:
                    cell["source"] = answers[student][grade_id].strip()
            hub.request("PUT", f"/user/{student}/api/contents/{path}",
                        data={"type": "notebook", "format": "json", "content": model["content"]})
            hub.action(student, "submit")

        # the instructor collects, autogrades, and generates and releases feedback
        hub.formgrader(f"assignment/{ASSIGNMENT}/collect")
        for student in STUDENTS:
            assert (course / "submitted" / student / ASSIGNMENT / notebook_name(ASSIGNMENT)).is_file()
            hub.formgrader(f"submission/{ASSIGNMENT}/{student}/autograde")
        hub.formgrader(f"assignment/{ASSIGNMENT}/generate_feedback")
        hub.formgrader(f"assignment/{ASSIGNMENT}/release_feedback")
        submissions = hub.request("GET", f"/user/{INSTRUCTOR}/formgrader/api/submissions/{ASSIGNMENT}")
        scores = {s["student"]: (s["score"], s["max_score"]) for s in submissions}
        assert scores == {"alice": (8.0, 8.0), "bob": (4.0, 8.0)}, scores

        # each student fetches their own feedback: scores shown, hidden tests not
        hidden = hidden_test_lines(ASSIGNMENT)
        assert hidden
        for student in STUDENTS:
            hub.action(student, "fetch_feedback")
            pages = list((state / "home" / student / ASSIGNMENT / "feedback").rglob("*.html"))
            assert len(pages) == 1, pages
            text = html.unescape(pages[0].read_text())
            expected = "8.0 / 8.0" if student == "alice" else "4.0 / 8.0"
            assert expected in text, (student, expected)
            assert not [line for line in hidden if line in text]
    finally:
        left = _stop_hub(process, state)
        log.close()
        remaining = _hub_processes(str(state))
        shutil.rmtree(state, ignore_errors=True)
    assert not left, f"processes that outlived the hub: {left}"
    assert not remaining, f"processes of the hub still running: {remaining}"
