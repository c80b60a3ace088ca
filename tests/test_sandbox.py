"""The grading sandbox (utils/sandbox.py), checked from the inside: each test runs real
Python in a real bubblewrap sandbox and looks at what it can see and do. Fast (well
under a second each); they skip where bubblewrap is missing, unless
COURSE_REQUIRE_SANDBOX=1 (CI) makes that a failure."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from utils import sandbox

REPO = Path(__file__).resolve().parents[1]

if shutil.which("bwrap") is None and os.environ.get("COURSE_REQUIRE_SANDBOX") != "1":
    pytest.skip("bubblewrap (bwrap) is not installed: apt-get install bubblewrap",
                allow_module_level=True)


def _run(tmp_path: Path, code: str, *, max_processes: int = 64, env: dict | None = None,
         timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``code`` with this Python in a sandbox whose working folder is a private copy
    of ``tmp_path/submission``; prints what the code prints."""
    work, run = tmp_path / "submission", tmp_path / "run"
    work.mkdir(exist_ok=True)
    run.mkdir(exist_ok=True)
    private = tmp_path / "private"
    if not private.exists():
        shutil.copytree(work, private)
    sandbox._give_to_sandbox_user(private)
    sandbox._give_to_sandbox_user(run)
    argv = sandbox.sandbox_argv([sys.executable, "-c", code], work, private, run,
                                env if env is not None else dict(os.environ), 2.0,
                                max_processes, 60, 64)
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=tmp_path)


def test_the_sandbox_starts_here():
    sandbox.check_sandbox()


def test_a_missing_bubblewrap_stops_with_the_fix(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(sandbox.SandboxError, match="apt-get install bubblewrap"):
        sandbox.check_sandbox()


def test_student_code_sees_its_folder_but_not_the_course_or_home(tmp_path):
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "answer.txt").write_text("mine")
    (tmp_path / "gradebook.db").write_text("secret")
    code = f"""
import json, os, pathlib
print(json.dumps({{
    "cwd": os.getcwd(),
    "own": open("answer.txt").read(),
    "gradebook": os.path.exists({str(tmp_path / 'gradebook.db')!r}),
    "solutions": os.path.exists({str(REPO / 'solutions')!r}),
    "repo": sorted(os.listdir({str(REPO)!r})),
    "home": os.path.exists(os.path.expanduser("~root/.bashrc")) or os.path.exists("/root/.bashrc"),
    "uid": os.getuid(), "pid": os.getpid(), "ppid": os.getppid(),
}}))
"""
    out = _run(tmp_path, code)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    assert seen["cwd"] == str(tmp_path / "submission") and seen["own"] == "mine"
    assert not seen["gradebook"] and not seen["solutions"] and not seen["home"]
    # of the checkout only what the kernel needs is there: the package (and the venv)
    assert set(seen["repo"]) <= {"utils", ".venv"}, seen["repo"]
    assert seen["pid"] <= 3, "own PID namespace"
    if os.geteuid() == 0:
        assert seen["uid"] >= sandbox.SANDBOX_UID_BASE, "a root grader drops to an unprivileged uid"


def test_writes_go_to_the_private_copy_and_nothing_outside_is_writable(tmp_path):
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "answer.txt").write_text("original")
    code = f"""
import os
open("answer.txt", "w").write("changed")
open("/tmp/scratch", "w").write("fine")
for target in [{str(REPO / 'utils' / '__init__.py')!r}, "/usr/lib/os-release", "/etc/passwd"]:
    try:
        open(target, "a").write("x")
        print("WROTE", target)
    except OSError:
        pass
print(open("answer.txt").read())
"""
    out = _run(tmp_path, code)
    assert out.returncode == 0, out.stderr
    assert "WROTE" not in out.stdout and "changed" in out.stdout
    assert (tmp_path / "submission" / "answer.txt").read_text() == "original"


def test_no_network_even_to_a_server_on_this_machine(tmp_path, serve_bytes):
    import urllib.request

    with serve_bytes(b"answers") as url:
        assert urllib.request.urlopen(url, timeout=5).read() == b"answers"  # reachable outside
        out = _run(tmp_path, f"""
import urllib.request
try:
    print(urllib.request.urlopen({url!r}, timeout=5).read())
except OSError as err:
    print("refused", type(err).__name__)
""")
    assert out.returncode == 0, out.stderr
    assert "refused" in out.stdout and "answers" not in out.stdout


def test_the_grader_cannot_be_seen_or_signalled(tmp_path):
    me = os.getpid()
    out = _run(tmp_path, f"""
import os, signal
pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
try:
    os.kill({me}, signal.SIGKILL)
    print("killed")
except ProcessLookupError:
    print("no such process")
print(pids)
""")
    assert out.returncode == 0, out.stderr
    assert "no such process" in out.stdout
    assert max(json.loads(out.stdout.splitlines()[-1])) <= 3  # only bwrap's init and itself


def test_a_fork_bomb_stops_at_the_process_limit(tmp_path):
    out = _run(tmp_path, """
import os, time
children = []
try:
    for _ in range(500):
        pid = os.fork()
        if pid == 0:
            time.sleep(10)
            os._exit(0)
        children.append(pid)
except OSError:
    pass
for pid in children:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
print(len(children))
""", max_processes=40)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.split()[-1]) < 40


def test_only_harmless_environment_variables_reach_student_code(tmp_path):
    env = dict(os.environ, INSTRUCTOR_TOKEN="s3cret", COURSE_DATA_DIR=os.environ.get("COURSE_DATA_DIR", "/x"))
    out = _run(tmp_path, "import os, json; print(json.dumps(dict(os.environ)))", env=env)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    assert "INSTRUCTOR_TOKEN" not in seen and seen["HOME"] == "/tmp"
    assert seen["COURSE_DATA_DIR"] == env["COURSE_DATA_DIR"]


def test_the_data_sets_are_readable_and_read_only(tmp_path):
    data = tmp_path / "data"
    (data / "mnist").mkdir(parents=True)
    (data / "mnist" / "images.gz").write_bytes(b"pixels")
    env = dict(os.environ, COURSE_DATA_DIR=str(data))
    out = _run(tmp_path, f"""
p = {str(data / 'mnist' / 'images.gz')!r}
print(open(p, "rb").read())
try:
    open(p, "wb").write(b"")
    print("WROTE")
except OSError:
    print("read-only")
""", env=env)
    assert out.returncode == 0, out.stderr
    assert "b'pixels'" in out.stdout and "read-only" in out.stdout
