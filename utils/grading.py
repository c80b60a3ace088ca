"""Grading a class with nbgrader, robust to whatever students submit.

    python -m utils.grading release   ASSIGNMENT
    python -m utils.grading collect   ASSIGNMENT FOLDER   # FOLDER/<student>.ipynb or FOLDER/<student>/*.ipynb
    python -m utils.grading autograde ASSIGNMENT [--jobs N] [--memory-gb 4] [--student-timeout 1800] [--no-sandbox]
    python -m utils.grading feedback  ASSIGNMENT
    python -m utils.grading export    ASSIGNMENT grades.csv
    python -m utils.grading student-bundle DIR           # the course without solutions (utils.bundle)

run in the course directory (the one with ``nbgrader_config.py``). nbgrader does the
grading; this module adds what a class needs around it:

* every student is graded in a separate ``nbgrader autograde --student`` process with a
  memory limit (``RLIMIT_AS``) and a wall-clock limit, so one submission can never stop
  the class or take the machine down; ``--jobs N`` students at once (default: one per
  core), their gradebook writes serialized by SQLite's lock (:func:`gradebook_url`);
* the student's kernel runs in a bubblewrap sandbox (:mod:`utils.sandbox`): it cannot
  read the solutions, touch the gradebook or another student's files, use the network or
  signal the grader. Where the sandbox cannot start, nobody is graded; ``--no-sandbox``
  grades without it and says so in the report and the gradebook;
* :class:`RobustExecute` replaces nbgrader's executor: a cell that does not finish in
  time, even one that swallows ``KeyboardInterrupt``, or that kills the kernel, gets an
  error output, the kernel is restarted, the cells before it are run again and grading
  goes on with the next cell;
* a notebook that is not valid JSON, or that belongs to another assignment, is kept
  (renamed ``*.rejected``) and graded as an empty submission, with the reason;
* each run's problems are written to the gradebook as a comment on the student's first
  answer cell and to ``grading_report.csv``; the gradebook is backed up before a run;
* feedback shows each test's result and points but never the hidden tests
  (:class:`HideHiddenTests`), and renders its math offline with a copy of MathJax 3
  beside each page (:func:`localize_mathjax`).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Bool

from utils.storage import course_file

HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", re.DOTALL)
NOTE_TIMEOUT = (
    "This cell did not finish within {timeout} s and was stopped (it may loop forever or "
    "catch KeyboardInterrupt). The kernel was restarted, the cells above were run again, "
    "and grading continued with the next cell."
)
NOTE_DIED = (
    "The kernel died while running this cell (for example by using more memory than the "
    "grading limit). It was restarted, the cells above were run again, and grading "
    "continued with the next cell."
)


# --------------------------------------------------------------------------------------
# nbgrader preprocessors (named in nbgrader_config.py)
# --------------------------------------------------------------------------------------


class RobustExecute(Execute):
    """nbgrader's Execute, but a hung or fatal cell costs only that cell.

    When a cell times out and the kernel does not come back after the interrupt, or the
    kernel dies, the cell gets an error output saying so; the kernel is restarted and the
    cells that ran before are executed again (outputs discarded) to restore the state.

    With ``sandbox`` (the default; ``--RobustExecute.sandbox=False`` turns it off) the
    kernel runs in a bubblewrap sandbox (:class:`utils.sandbox.SandboxedKernelManager`):
    the student's code sees neither the course files nor the gradebook, nor the network.
    """

    sandbox = Bool(True, config=True, help="run the kernel in a bubblewrap sandbox (utils.sandbox)")

    def create_kernel_manager(self):
        if self.sandbox:
            from utils.sandbox import SandboxedKernelManager

            self.kernel_manager_class = SandboxedKernelManager
        return super().create_kernel_manager()

    def _note(self, cell, ename: str, text: str) -> None:
        cell.outputs = [o for o in cell.get("outputs", []) if o.get("output_type") != "error"]
        cell.outputs.append(nbformat.v4.new_output(
            "error", ename=ename, evalue=text, traceback=[f"{ename}: {text}"]))

    def preprocess(self, nb, resources=None, km=None):
        self._course_done = []  # the cells executed so far in this notebook, for replays
        return super().preprocess(nb, resources, km)

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        done = self._course_done
        if cell.cell_type != "code":
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        try:
            result = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        except (CellTimeoutError, DeadKernelError) as err:
            timed_out = isinstance(err, CellTimeoutError)
            self.log.warning("cell %d %s; restarting the kernel", cell_index,
                             "timed out" if timed_out else "killed the kernel")
            self._note(cell, "CellTimeoutError" if timed_out else "DeadKernelError",
                       NOTE_TIMEOUT.format(timeout=self.timeout) if timed_out else NOTE_DIED)
            await self._course_restart(done)
            return cell
        done.append((cell_index, cell))
        return result

    # nbclient binds its synchronous execute_cell to its own coroutine; bind it to ours
    execute_cell = run_sync(async_execute_cell)

    async def _course_restart(self, done) -> None:
        await self.km.restart_kernel(now=True)
        await self.kc.wait_for_ready(timeout=self.startup_timeout)
        for index, previous in done:
            replay = nbformat.from_dict(json.loads(json.dumps(previous)))
            replay.outputs = []
            try:
                await super().async_execute_cell(replay, index, None, False)
            except (CellTimeoutError, DeadKernelError):  # replays of finished cells
                self.log.warning("a cell that finished before failed on replay")
            finally:
                self.nb.cells[index] = previous  # nbclient stored the replay copy there


class GuardTests(NbGraderPreprocessor):
    """Put a tampering check (:func:`utils.tamper.check_untampered`) at the top of every
    test cell, so a test fails with a clear message if the submission replaced numpy,
    torch or math functions, built-ins the test uses, or the module names."""

    def preprocess_cell(self, cell, resources, cell_index):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            from utils.tamper import BUILTIN_NAMES

            used = sorted(set(re.findall(r"\b[A-Za-z_]\w*\b", cell.source)) & set(BUILTIN_NAMES))
            guard = (f'__import__("utils.tamper", fromlist=["check_untampered"])'
                     f'.check_untampered(globals(), {used!r})  # added by the grader\n')
            cell.source = guard + cell.source
        return cell, resources


class HideHiddenTests(NbGraderPreprocessor):
    """For feedback: remove hidden-test code from test cells and reduce their error
    outputs to the exception name and message, so no hidden test text is shown."""

    def preprocess_cell(self, cell, resources, cell_index):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            cell.source = "\n".join(line for line in cell.source.splitlines()
                                    if not line.endswith("# added by the grader"))
            if "BEGIN HIDDEN TESTS" in cell.source:
                cell.source = HIDDEN.sub("# (hidden tests)\n", cell.source)
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    message = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".rstrip(": ")
                    output["traceback"] = [message]
        return cell, resources


# --------------------------------------------------------------------------------------
# Submissions
# --------------------------------------------------------------------------------------


@dataclass
class StudentResult:
    student: str
    status: str = "graded"
    messages: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _released(course: Path, assignment: str) -> dict[str, nbformat.NotebookNode]:
    folder = course / "exercises" / assignment
    notebooks = {p.name: nbformat.read(p, as_version=4) for p in sorted(folder.glob("*.ipynb"))}
    if not notebooks:
        raise SystemExit(f"no released notebook in {folder}; run: python -m utils.grading release {assignment}")
    return notebooks


def _grade_ids(nb) -> set[str]:
    """The ids of the answer and test cells (not of shared names like 'intro')."""
    ids = set()
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade_id") and (meta.get("grade") or meta.get("solution")):
            ids.add(meta["grade_id"])
    return ids


def check_submission(path: Path, released: nbformat.NotebookNode) -> str | None:
    """Why a submitted notebook cannot be graded (None if it can)."""
    if not path.is_file():
        return f"{path.name} is missing from the submission"
    try:
        text = path.read_text(encoding="utf-8")
        if not text.strip():
            return f"{path.name} is empty"
        nb = nbformat.reads(text, as_version=4)
    except (UnicodeDecodeError, json.JSONDecodeError, nbformat.reader.NotJSONError) as err:
        return f"{path.name} is not a valid notebook (not JSON: {str(err).splitlines()[0][:120]})"
    except Exception as err:  # noqa: BLE001 - any reader failure is a bad submission
        return f"{path.name} is not a valid notebook ({type(err).__name__}: {str(err)[:120]})"
    expected = _grade_ids(released)
    found = _grade_ids(nb)
    if not found & expected:
        return (f"{path.name} is not this assignment's notebook: none of its cells "
                f"({', '.join(sorted(found)[:4]) or 'no nbgrader cells'}) belong to it")
    return None


def prepare_submission(course: Path, assignment: str, student: str) -> list[str]:
    """Replace ungradable notebooks by the released version (kept as ``*.rejected``)."""
    messages = []
    folder = course / "submitted" / student / assignment
    for name, released in _released(course, assignment).items():
        path = folder / name
        problem = check_submission(path, released)
        if problem is None:
            continue
        if path.exists():
            path.rename(path.with_name(path.name + ".rejected"))
        nbformat.write(released, path)
        messages.append(f"{problem}; graded as an empty submission (the file is kept as "
                        f"{name}.rejected)")
    return messages


def _nbgrader(course: Path, args: list[str], memory_gb: float | None = None,
              timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run nbgrader in its own session (a timeout kills it and its kernels together) with
    an address-space limit of ``memory_gb`` (inherited by the kernels it starts)."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    command = [sys.executable, "-m", "nbgrader", *args]
    if memory_gb:
        # prlimit(1) sets the limit before nbgrader starts, without a preexec_fn (which is
        # unsafe in the threads of a parallel run)
        limit = int(memory_gb * 2**30)
        command = ["prlimit", f"--as={limit}:{limit}", "--", *command]
    proc = subprocess.Popen(command, cwd=course, env=env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        out, _ = proc.communicate()
        return subprocess.CompletedProcess(proc.args, -9, out + "\n[killed: wall-clock limit]")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out)


def _errors(log: str) -> list[str]:
    lines = [line.strip() for line in log.splitlines() if "| ERROR]" in line]
    return [line.split("| ERROR]", 1)[1].strip() for line in lines][-3:]


def gradebook_url(course: Path) -> str:
    """The gradebook's SQLAlchemy URL. Writers wait up to 10 minutes for each other's
    lock (SQLite's default is 5 s), so parallel graders never fail with "database is
    locked": their writes are serialized by SQLite."""
    return f"sqlite:///{course / 'gradebook.db'}?timeout=600"


_GRADEBOOK_LOCK = threading.Lock()  # this process's own gradebook writes, one at a time


def _record(course: Path, assignment: str, result: StudentResult) -> None:
    """Put the messages into the gradebook, as a comment on the first answer cell."""
    if not result.messages:
        return
    from nbgrader.api import Gradebook, MissingEntry

    with _GRADEBOOK_LOCK, Gradebook(gradebook_url(course)) as gb:
        try:
            submission = gb.find_submission(assignment, result.student)
        except MissingEntry:
            return
        for notebook in submission.notebooks:
            if notebook.comments:
                comment = sorted(notebook.comments, key=lambda c: c.name)[0]
                comment.manual_comment = "Grading notes: " + " ".join(result.messages)
        gb.db.commit()


UNSANDBOXED = ("graded WITHOUT the sandbox (--no-sandbox): the submission's code could "
               "read and change files of the course")


def _grade_one(course: Path, assignment: str, student: str, memory_gb: float,
               student_timeout: float, sandbox: bool) -> StudentResult:
    start = time.perf_counter()
    result = StudentResult(student, messages=prepare_submission(course, assignment, student))
    if not sandbox:
        result.messages.insert(0, UNSANDBOXED)
    args = ["autograde", assignment, "--student", student, "--force", "--create",
            f"--CourseDirectory.db_url={gradebook_url(course)}",
            f"--RobustExecute.sandbox={sandbox}",
            f"--SandboxedKernelManager.memory_gb={memory_gb}",
            f"--SandboxedKernelManager.cpu_seconds={int(student_timeout)}"]
    run = _nbgrader(course, args, memory_gb, student_timeout)
    if run.returncode != 0:
        result.status = "failed"
        result.messages.append("nbgrader could not grade this submission: "
                               + " | ".join(_errors(run.stdout) or run.stdout.splitlines()[-2:]))
    notes = sorted({m.group(0) for m in re.finditer(r"cell \d+ (timed out|killed the kernel)", run.stdout)})
    if notes:
        result.messages.append("; ".join(notes) + " (see the cell's output in the feedback)")
    result.seconds = time.perf_counter() - start
    _record(course, assignment, result)
    return result


def _progress(done: int, total: int, failed: int, width: int = 30) -> str:
    filled = round(width * done / total) if total else width
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} students, {done - failed} graded, {failed} failed"


def autograde_class(course: Path, assignment: str, memory_gb: float = 4.0,
                    student_timeout: float = 1800.0, jobs: int | None = None,
                    sandbox: bool = True, only: str | None = None) -> list[StudentResult]:
    """Grade every student in ``submitted/`` (or only the student ``only``), ``jobs`` at a
    time (default: one per core),
    each in a separate nbgrader process with its kernel in a sandbox; never stop on a
    student. Without a working sandbox nobody is graded (:class:`SystemExit` with the
    cause and the fix) unless ``sandbox=False`` says so explicitly."""
    if sandbox:
        from utils.sandbox import SandboxError, check_sandbox

        try:
            check_sandbox()
        except SandboxError as err:
            raise SystemExit(f"autograde stopped before grading anyone: {err}") from None
    else:
        print(f"WARNING: {UNSANDBOXED}", file=sys.stderr, flush=True)
    submitted = course / "submitted"
    students = sorted(p.name for p in submitted.iterdir() if (p / assignment).is_dir()) \
        if submitted.is_dir() else []
    if only is not None:
        if only not in students:
            raise SystemExit(f"autograde: no submission of {assignment!r} by student {only!r} in "
                             f"{submitted} (collect it first); nobody was graded")
        students = [only]
    gradebook = course / "gradebook.db"
    if gradebook.exists():
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        shutil.copy2(gradebook, course / f"gradebook.db.{stamp}.bak")
    from nbgrader.api import Gradebook

    with Gradebook(gradebook_url(course)):  # create the database before the jobs share it
        pass
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(students) or 1))
    results: dict[str, StudentResult] = {}
    failed = 0
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(_grade_one, course, assignment, student, memory_gb,
                               student_timeout, sandbox): student for student in students}
        for future in as_completed(futures):
            result = future.result()
            results[result.student] = result
            failed += result.status != "graded"
            print(f"{result.student}: {result.status} in {result.seconds:.1f} s"
                  + (f" -- {' '.join(result.messages)}" if result.messages else ""), flush=True)
            print(_progress(len(results), len(students), failed), file=sys.stderr, flush=True)
    ordered = [results[s] for s in students]
    with open(course / "grading_report.csv", "a", newline="") as handle:
        writer = csv.writer(handle)
        for r in ordered:
            writer.writerow([dt.datetime.now().isoformat(timespec="seconds"), assignment,
                             r.student, r.status, f"{r.seconds:.1f}", " ".join(r.messages)])
    return ordered


def collect(course: Path, assignment: str, folder: Path) -> list[str]:
    """Copy ``folder/<student>.ipynb`` or ``folder/<student>/*.ipynb`` into nbgrader's
    ``submitted/<student>/<assignment>/`` with a timestamp; returns the students."""
    names = list(_released(course, assignment))
    students = []
    for entry in sorted(folder.iterdir()):
        student = entry.stem if entry.is_file() else entry.name
        files = [entry] if entry.is_file() and entry.suffix == ".ipynb" else \
            sorted(entry.glob("*.ipynb")) if entry.is_dir() else []
        if not files:
            continue
        target = course / "submitted" / student / assignment
        target.mkdir(parents=True, exist_ok=True)
        for source in files:
            name = source.name if source.name in names or len(names) > 1 else names[0]
            shutil.copy2(source, target / name)
        stamp = dt.datetime.fromtimestamp(max(f.stat().st_mtime for f in files), dt.timezone.utc)
        (target / "timestamp.txt").write_text(stamp.strftime("%Y-%m-%d %H:%M:%S.%f %Z"))
        students.append(student)
    return students


def export_grades(course: Path, assignment: str, path: Path) -> int:
    """Write student, score, max score and grading notes of ``assignment`` to CSV."""
    from nbgrader.api import Gradebook

    rows = 0
    with Gradebook(gradebook_url(course)) as gb, open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "assignment", "score", "max_score", "notes"])
        maximum = gb.find_assignment(assignment).max_score
        for submission in sorted(gb.assignment_submissions(assignment), key=lambda s: s.student_id):
            notes = " ".join(c.manual_comment for nb in submission.notebooks for c in nb.comments
                             if c.manual_comment)
            writer.writerow([submission.student_id, assignment, submission.score, maximum, notes])
            rows += 1
    return rows


MATHJAX_ES5 = course_file("book/mathjax/node_modules/mathjax/es5")
# nbconvert's mathjax() macro, used by nbgrader's feedback template, loads MathJax 2.7 from
# a CDN; this replaces that block (from its first comment to its last).
_CDN_MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)
_LOCAL_MATHJAX = r"""<!-- MathJax 3 (SVG output, all TeX extensions) in mathjax/ beside this page: math renders offline -->
<script>
window.MathJax = {
  tex: {inlineMath: [['$', '$'], ['\\(', '\\)']], displayMath: [['$$', '$$'], ['\\[', '\\]']],
        processEscapes: true, processEnvironments: true, tags: 'ams'},
  options: {enableMenu: false}
};
</script>
<script defer src="mathjax/tex-svg-full.js"></script>"""


def localize_mathjax(folder: Path, mathjax_dir: Path = MATHJAX_ES5) -> int:
    """Make the feedback pages under ``folder`` render math without internet.

    Each HTML page that loads MathJax from the CDN gets a copy of MathJax 3's
    self-contained ``tex-svg-full.js`` (2.3 MB, no fonts or extensions to fetch) in a
    ``mathjax/`` folder beside it, and loads that instead; the copy travels with the
    student's feedback folder. Returns the number of pages changed.
    """
    source = Path(mathjax_dir) / "tex-svg-full.js"
    if not source.is_file():
        raise FileNotFoundError(
            f"MathJax is not installed ({source} is missing): run `npm ci --prefix "
            "book/mathjax` in the repository, as the set-up command of the README does"
        )
    changed = 0
    for page in sorted(Path(folder).rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        new, count = _CDN_MATHJAX.subn(lambda _: _LOCAL_MATHJAX, text)
        if not count:
            continue
        (page.parent / "mathjax").mkdir(exist_ok=True)
        shutil.copyfile(source, page.parent / "mathjax" / source.name)
        page.write_text(new, encoding="utf-8")
        changed += 1
    return changed


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["student-bundle"]:
        from utils.bundle import main as bundle_main

        return bundle_main(argv[1:])
    parser = argparse.ArgumentParser(
        description="Grade the course's assignments with nbgrader.",
        epilog="python -m utils.grading student-bundle DIR writes the student distribution "
               "(no solutions, hidden tests or grading files) into DIR; see utils/bundle.py.")
    parser.add_argument("command", choices=["release", "collect", "autograde", "feedback", "export"],
                        help="release: make the student version of ASSIGNMENT from source/; "
                             "collect: copy submissions from PATH into submitted/; "
                             "autograde: grade every collected submission (or --student); "
                             "feedback: write the feedback pages (hidden tests not shown); "
                             "export: write the grades of ASSIGNMENT to the CSV file PATH")
    parser.add_argument("assignment", help="the assignment's name, e.g. ch03_tools")
    parser.add_argument("path", nargs="?", help="collect: folder of submissions; export: CSV file")
    parser.add_argument("--course", default=".", help="course directory (default: .)")
    parser.add_argument("--memory-gb", type=float, default=4.0,
                        help="autograde: address-space limit of each student's grading process, "
                             "in GiB (2^30 bytes; default 4)")
    parser.add_argument("--student-timeout", type=float, default=1800.0,
                        help="autograde: wall-clock limit for grading one student, in seconds "
                             "(default 1800)")
    parser.add_argument("--student", default=None,
                        help="autograde: grade only this student (the others keep their grades)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="autograde: students graded at once (default: the number of cores)")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="autograde: run student code WITHOUT the bubblewrap sandbox (says so in "
                             "the report and the gradebook)")
    args = parser.parse_args(argv)
    course = Path(args.course).resolve()
    if args.command == "release":
        run = _nbgrader(course, ["generate_assignment", args.assignment, "--force"])
        print(run.stdout[-2000:])
        return run.returncode
    if args.command == "collect":
        if not args.path:
            parser.error("collect needs the folder of submissions")
        students = collect(course, args.assignment, Path(args.path))
        print(f"collected {len(students)} submissions")
        return 0
    if args.command == "autograde":
        results = autograde_class(course, args.assignment, args.memory_gb, args.student_timeout,
                                  args.jobs, sandbox=not args.no_sandbox, only=args.student)
        failed = [r.student for r in results if r.status != "graded"]
        print(f"graded {len(results) - len(failed)} of {len(results)} students"
              + (f"; failed: {', '.join(failed)} (see grading_report.csv)" if failed else ""))
        return 0
    if args.command == "feedback":
        run = _nbgrader(course, ["generate_feedback", args.assignment, "--force"])
        print(run.stdout[-2000:])
        if run.returncode == 0:
            pages = sum(localize_mathjax(folder) for folder in sorted(
                (course / "feedback").glob(f"*/{args.assignment}")))
            print(f"{pages} feedback pages load MathJax from their own folder (offline)")
        return run.returncode
    if not args.path:
        parser.error("export needs the CSV file to write")
    print(f"wrote {export_grades(course, args.assignment, Path(args.path))} rows to {args.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
