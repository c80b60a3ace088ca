"""Hostile submissions: what a student who attacks the grader writes, and what it must score.

``tests/test_grading.py`` grades these in the same class as the bank of
``tests/grading_bank.py`` (one ``python -m utils.grading autograde`` per assignment), so
the honest students' grades and feedback, checked after the run, are the proof that no
attack reached them.

For every assignment (:func:`cheats`):

* ``spy`` runs the instructor's answer cells, read from ``solutions/`` (found by walking up
  from the working directory); without a sandbox it gets full marks, in one it finds
  nothing and gets what an empty submission gets;
* ``nil`` answers every function with ``None``: the wrong answer the next two are
  measured against;
* ``hush`` gives the same wrong answers and silences the display of errors (IPython's
  traceback hooks, a custom exception handler, ``sys.excepthook``, ``sys.stderr``);
* ``same`` returns objects that compare equal to, and are close to, everything.

``hush`` and ``same`` must score no more than ``nil``.

For ``ch03_tools`` also the attacks on the machine (:func:`machine_attacks`), each with
correct answers defined only after the attack, so an attack that succeeds or crashes the
kernel costs points: ``zvandal`` zeroes every grade in ``gradebook.db`` and deletes and
edits the other students' files; ``killer`` kills its parent and every nbgrader process
it can see, then its own process group (so it loses the first answer's points); ``forker`` forks until the process limit stops it (and refuses to answer if
it got 300 of the 400 it tries); ``netspy`` fetches the instructor's answers from an HTTP server on
127.0.0.1.
"""

from __future__ import annotations

import ast

from grading_bank import Submission, instructor_answers

SPY = '''
import json, pathlib
_here = pathlib.Path.cwd()
_found = [p for d in [_here, *_here.parents] for p in sorted(d.glob("solutions/{assignment}/*.ipynb"))]
if not _found:
    raise FileNotFoundError("the instructor's notebook is out of sight")
for _cell in json.loads(_found[0].read_text())["cells"]:
    if _cell["metadata"].get("nbgrader", {{}}).get("grade_id") == {grade_id!r}:
        exec("".join(_cell["source"]), globals())
'''

HUSH = '''
import os, sys
_shell = get_ipython()
_shell.showtraceback = lambda *args, **kwargs: None
_shell._showtraceback = lambda *args, **kwargs: None
_shell.showsyntaxerror = lambda *args, **kwargs: None
_shell.set_custom_exc((BaseException,), lambda *args, **kwargs: None)
sys.excepthook = lambda *args: None
sys.stderr = open(os.devnull, "w")
'''

EVERYTHING = '''
class _Everything:
    """Equal to, ordered with and close to everything."""
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    __lt__ = __le__ = __gt__ = __ge__ = __eq__
    def __bool__(self): return True
    def __abs__(self): return 0.0
    def __hash__(self): return 0
    def _same(self, *args, **kwargs): return self
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = _same
    __rtruediv__ = __pow__ = __rpow__ = __neg__ = __pos__ = __getitem__ = __call__ = _same
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self
'''


def _stubs(source: str, body: str) -> str:
    """``source`` with every top-level function reduced to ``body``."""
    lines = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            lines.append(f"def {node.name}(*args, **kwargs):\n    {body}\n")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            lines.append(ast.unparse(node) + "\n")
    return "\n".join(lines)


def cheats(course, assignment: str, zero: dict[str, float]) -> list[Submission]:
    answers = instructor_answers(course, assignment)
    first = next(iter(answers))
    nil = {g: _stubs(src, "return None") for g, src in answers.items()}
    return [
        Submission("spy", answers={g: SPY.format(assignment=assignment, grade_id=g) for g in answers},
                   expected=zero),
        Submission("nil", answers=nil, expected=zero),
        Submission("hush", answers=nil | {first: HUSH + nil[first]}, expected=zero),
        Submission("same", answers={g: EVERYTHING + _stubs(src, "return _Everything()")
                                    for g, src in answers.items()}, expected=zero),
    ]


VANDAL = '''
import pathlib, shutil, sqlite3
_here = pathlib.Path.cwd()
for _d in [_here, *_here.parents]:
    try:
        _db = _d / "gradebook.db"
        if _db.exists():
            _c = sqlite3.connect(_db, timeout=60)
            _c.execute("UPDATE grade SET auto_score = 0, manual_score = 0")
            _c.commit()
            _c.close()
        for _kind in ("submitted", "autograded", "feedback"):
            for _other in sorted((_d / _kind).glob("*")):
                if _other.name != "zvandal":
                    for _nb in _other.rglob("*.ipynb"):
                        _nb.write_text("{}")
                    shutil.rmtree(_other, ignore_errors=True)
    except OSError:
        pass
'''

KILLER = '''
import os, signal
for _pid in [os.getppid(), *[int(p) for p in os.listdir("/proc") if p.isdigit()]]:
    try:
        with open(f"/proc/{_pid}/cmdline", "rb") as _f:
            _cmd = _f.read()
        if _pid == os.getppid() or b"nbgrader" in _cmd:
            os.kill(_pid, signal.SIGKILL)
    except (OSError, ProcessLookupError):
        pass
os.killpg(os.getpgid(0), signal.SIGKILL)  # and its own process group: the kernel dies here
'''

FORKER = '''
import os, time
_children = []
try:
    for _ in range(400):
        _pid = os.fork()
        if _pid == 0:
            time.sleep(20)
            os._exit(0)
        _children.append(_pid)
except OSError:
    pass
for _pid in _children:
    os.kill(_pid, 9)
    os.waitpid(_pid, 0)
if len(_children) >= 300:
    raise SystemExit(f"forked {len(_children)} processes: there is no process limit")
'''

NETSPY = '''
import json, urllib.request
_answers = json.loads(urllib.request.urlopen("http://127.0.0.1:{port}/answers", timeout=5).read())
exec(_answers[{grade_id!r}], globals())
'''


def machine_attacks(course, assignment: str, full: dict[str, float], zero: dict[str, float],
                    port: int) -> list[Submission]:
    answers = instructor_answers(course, assignment)
    first = next(iter(answers))
    first_test = next(iter(full))  # the test of the first answer (the bank lists them in order)
    return [
        Submission("zvandal", answers={first: VANDAL + answers[first]}, expected=full),
        # the kernel dies in the first answer cell, so that answer is lost, nothing else
        Submission("killer", answers={first: KILLER + answers[first]},
                   expected=full | {first_test: 0}),
        Submission("forker", answers={first: FORKER + answers[first]}, expected=full),
        Submission("netspy", answers={g: NETSPY.format(port=port, grade_id=g) for g in answers},
                   expected=zero),
    ]
