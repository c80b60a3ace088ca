"""Run a grading kernel in a bubblewrap sandbox (Linux namespaces, no container daemon).

:class:`SandboxedKernelManager` is a jupyter_client kernel manager: nbclient (and so
nbgrader's ``Execute``) starts, interrupts, restarts and stops the kernel as usual, but the
kernel process runs inside ``bwrap`` (Debian/Ubuntu package ``bubblewrap``), where the
student's code

* sees only the operating system (``/usr``, ``/etc``), the Python environment, the
  ``utils`` package and the course's data folders, all read-only; a private writable copy
  of its own submission folder at the same path; and a private ``/tmp`` of limited size.
  Nothing else exists in its file system: not ``solutions/`` or ``source/``, not
  ``gradebook.db`` or its backups, not ``submitted/``, ``autograded/`` or ``feedback/``,
  not the instructor's home directory or the course checkout;
* has no network (its own network namespace holds only a loopback device): it talks to
  the grader through the kernel's ZeroMQ sockets, which use the IPC transport (Unix
  sockets in a private run directory, the only folder it shares with the grader);
* has its own PID namespace, so it cannot see or signal the grader, and dies with it
  (``--die-with-parent``); it runs in its own user namespace, as an unprivileged user when
  the grader is root, with limits on address space, processes, CPU time and file size.

Interrupts go over the control channel (``interrupt_mode = "message"``), since a signal
sent to the sandbox's process group would reach bubblewrap's init, not the kernel.

:func:`check_sandbox` starts one sandbox and says, with the fix, why it cannot; the grader
calls it before grading anyone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Float, Int, Unicode

# a root grader runs student kernels as uid SANDBOX_UID_BASE + its pid: the limit on
# processes does not bind root, and a uid far above any real account owns nothing
SANDBOX_UID_BASE = 2_000_000_000
# environment variables a student kernel inherits; everything else is dropped, so no
# token, password or path of the instructor's shell reaches student code
KEEP_ENV = ("PATH", "LANG", "LANGUAGE", "TZ", "PYTHONHASHSEED", "MPLBACKEND",
            "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
KEEP_ENV_PREFIXES = ("LC_", "COURSE_", "JPY_")

INSTALL_HINT = (
    "install bubblewrap (Debian/Ubuntu: `sudo apt-get install bubblewrap`; Fedora: "
    "`sudo dnf install bubblewrap`), or grade without a sandbox, knowingly, with "
    "`python -m utils.grading autograde ASSIGNMENT --no-sandbox`"
)
USERNS_HINT = (
    "the kernel refuses unprivileged user namespaces: allow them with `sudo sysctl "
    "kernel.unprivileged_userns_clone=1` (Debian) or `sudo sysctl "
    "kernel.apparmor_restrict_unprivileged_userns=0` (Ubuntu 24.04), or grade without a "
    "sandbox, knowingly, with `--no-sandbox`"
)


class SandboxError(RuntimeError):
    """The sandbox cannot be started on this machine; the message says why and the fix."""


def bwrap_path() -> str:
    path = shutil.which("bwrap")
    if path is None:
        raise SandboxError(f"the grading sandbox needs bubblewrap (`bwrap`), which is not on PATH: {INSTALL_HINT}")
    return path


def _utils_dir() -> Path:
    return Path(__file__).resolve().parent


def readonly_paths(env: dict[str, str] | None = None) -> list[Path]:
    """What a student kernel may read: the Python environment, ``utils``, the data
    (``COURSE_DATA_DIR`` of ``env``, default this process's environment, and the cache)."""
    from utils.storage import cache_dir

    env = os.environ if env is None else env
    paths = [Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent.parent,
             _utils_dir()]
    data = env.get("COURSE_DATA_DIR")
    if data:
        paths.append(Path(data).expanduser())
    paths.append(cache_dir())
    unique: list[Path] = []
    for path in paths:
        path = path.resolve()
        if path.exists() and not any(path.is_relative_to(p) for p in unique + [Path("/usr")]):
            unique = [p for p in unique if not p.is_relative_to(path)] + [path]
    return unique


def sandbox_uid() -> int:
    """The uid a root grader gives this process's sandboxed kernels: unique among the
    graders running at once (it contains the pid), so each sandbox has its own process
    limit (``RLIMIT_NPROC`` counts per user) and no real user's files are its own."""
    return SANDBOX_UID_BASE + os.getpid()


def sandbox_argv(command: list[str], workdir: Path, private_copy: Path, run_dir: Path,
                 env: dict[str, str], memory_gb: float, max_processes: int,
                 cpu_seconds: int, tmp_mb: int) -> list[str]:
    """The command line that runs ``command`` in the sandbox (see the module docstring).

    ``workdir`` is where the kernel believes it runs (the notebook's folder); it sees
    ``private_copy`` there. ``run_dir`` holds the connection file and IPC sockets.

    Run by a normal user, bwrap makes a user namespace and the limits apply within it.
    Run by root, bwrap mounts as root and the kernel is then switched (``setpriv``) to
    :func:`sandbox_uid` with no capabilities, since the process limit does not bind root.
    """
    limits = ["prlimit", f"--as={int(memory_gb * 2**30)}", f"--nproc={max_processes}",
              f"--cpu={cpu_seconds}", f"--fsize={2**30}", "--core=0", "--"]
    root = os.geteuid() == 0
    if root:
        namespaces = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                      "--unshare-cgroup-try", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        uid = str(sandbox_uid())
        command = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                   "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--", *command]
    else:
        namespaces = ["--unshare-all", "--unshare-user"]
    argv = [*limits, bwrap_path(), *namespaces, "--die-with-parent", "--hostname", "grading-sandbox",
            "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            argv += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            argv += ["--ro-bind", str(path), str(path)]
    argv += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", str(tmp_mb * 2**20),
             "--tmpfs", "/tmp"]
    readonly = readonly_paths(env)
    # bwrap makes missing parents of a mount point with mode 0700, which the sandbox user
    # could not pass through: make them 0755 first (they are empty folders of the sandbox)
    parents = sorted({parent for path in [*readonly, run_dir, workdir] for parent in path.parents
                      if parent != Path("/") and parent != Path("/tmp")}, key=lambda p: len(p.parts))
    for parent in parents:
        argv += ["--perms", "0755", "--dir", str(parent)]
    for path in readonly:
        argv += ["--ro-bind", str(path), str(path)]
    argv += ["--bind", str(run_dir), str(run_dir), "--bind", str(private_copy), str(workdir),
             "--chdir", str(workdir), "--clearenv"]
    kept = {k: v for k, v in env.items()
            if k in KEEP_ENV or k.startswith(KEEP_ENV_PREFIXES)}
    kept.update(HOME="/tmp", TMPDIR="/tmp", MPLCONFIGDIR="/tmp/matplotlib",
                JUPYTER_RUNTIME_DIR="/tmp/jupyter", IPYTHONDIR="/tmp/ipython")
    for key, value in sorted(kept.items()):
        argv += ["--setenv", key, value]
    return [*argv, "--", *command]


def _give_to_sandbox_user(path: Path) -> None:
    if os.geteuid() != 0:
        return
    for root, dirs, files in os.walk(path):
        for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
            os.lchown(name, sandbox_uid(), sandbox_uid())


class SandboxedKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` whose kernel runs in a bubblewrap sandbox."""

    memory_gb = Float(4.0, config=True, help="address-space limit of each sandboxed process (GiB)")
    max_processes = Int(64 + 2 * (os.cpu_count() or 1), config=True,
                        help="processes and threads the sandbox may hold at once (a kernel "
                             "needs a few threads per core for its numerical libraries)")
    cpu_seconds = Int(3600, config=True, help="CPU time limit of each sandboxed process (s)")
    tmp_mb = Int(1024, config=True, help="size of the sandbox's private /tmp (MiB)")
    run_root = Unicode("", config=True, help="where run directories are made (default: the system temp dir)")

    _run_dir: Path | None = None
    _null: int | None = None
    _private: Path | None = None

    def _prepare(self, cwd: str) -> None:
        self._run_dir = Path(tempfile.mkdtemp(prefix="grading-sandbox-", dir=self.run_root or None))
        os.chmod(self._run_dir, 0o700)
        run = self._run_dir / "run"
        run.mkdir()
        self._private = self._run_dir / "work"
        shutil.copytree(cwd, self._private, symlinks=True)
        _give_to_sandbox_user(self._run_dir)
        self.transport = "ipc"
        self.ip = str(run / "kernel")
        self.connection_file = str(run / "kernel.json")

    async def _async_pre_start_kernel(self, **kw):
        if self._run_dir is None:  # first start; a restart reuses the folders
            self._sandbox_workdir = Path(kw.get("cwd") or os.getcwd()).resolve()
            self._prepare(str(self._sandbox_workdir))
        kw["cwd"] = str(self._run_dir)  # bwrap starts there; the kernel itself in --chdir
        if self.kernel_spec is not None:
            self.kernel_spec.interrupt_mode = "message"
        cmd, kw = await super()._async_pre_start_kernel(**kw)
        if os.geteuid() == 0:
            os.chown(self.connection_file, sandbox_uid(), sandbox_uid())
        env = kw.get("env") or dict(os.environ)
        kw["env"] = {k: v for k, v in env.items() if k in ("PATH", "LANG")}
        argv = sandbox_argv(cmd, self._sandbox_workdir, self._private, self._run_dir / "run", env,
                            self.memory_gb, self.max_processes, self.cpu_seconds, self.tmp_mb)
        # jupyter_client launches with close_fds=False; any pass_fds makes Popen close every
        # other descriptor of the grader (the gradebook's, say) before the sandbox starts
        kw["pass_fds"] = (self._devnull(),)
        self.log.debug("sandboxed kernel: %s", " ".join(argv))
        return argv, kw

    def _devnull(self) -> int:
        if self._null is None:
            self._null = os.open(os.devnull, os.O_RDONLY)
        return self._null

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart and self._run_dir is not None:
            shutil.rmtree(self._run_dir, ignore_errors=True)
            self._run_dir = None
        if not restart and self._null is not None:
            os.close(self._null)
            self._null = None

    # AsyncKernelManager binds its public coroutines to the base class's; bind ours
    pre_start_kernel = _async_pre_start_kernel
    cleanup_resources = _async_cleanup_resources


def check_sandbox(timeout: float = 30.0) -> None:
    """Raise :class:`SandboxError` (cause and fix) unless a sandbox runs Python here."""
    bwrap_path()
    for tool in ("prlimit", "setpriv"):
        if shutil.which(tool) is None:
            raise SandboxError(f"the grading sandbox needs `{tool}` (package util-linux), which is not on PATH")
    with tempfile.TemporaryDirectory(prefix="grading-sandbox-check-") as tmp:
        tmp = Path(tmp)
        (tmp / "run").mkdir()
        (tmp / "work").mkdir()
        _give_to_sandbox_user(tmp)
        os.chmod(tmp, 0o755)
        probe = ("import os, sys; print(os.getpid(), os.getcwd(), "
                 "os.path.exists(sys.argv[1]), sep='|')")
        (tmp / "outside.txt").write_text("the sandbox must not see this file")
        argv = sandbox_argv([sys.executable, "-c", probe, str(tmp / "outside.txt")], tmp / "w",
                            tmp / "work", tmp / "run", dict(os.environ), 2.0, 32, 60, 16)
        try:
            run = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=tmp)
        except subprocess.TimeoutExpired as err:
            raise SandboxError(f"the grading sandbox did not start within {timeout:.0f} s") from err
    if run.returncode != 0:
        message = (run.stderr or run.stdout).strip().splitlines()[-1:] or ["no output"]
        hint = USERNS_HINT if any(word in message[0] for word in ("namespace", "Operation not permitted",
                                                                  "setting up uid map")) \
            else INSTALL_HINT
        raise SandboxError(f"the grading sandbox does not start ({message[0]}): {hint}")
    fields = run.stdout.strip().split("|")
    if fields[0] == "" or len(fields) != 3 or fields[2] != "False":
        raise SandboxError(f"the grading sandbox started but is not isolated (it printed {run.stdout!r})")
