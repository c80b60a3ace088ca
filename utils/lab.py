"""Open JupyterLab on the course, with nbgrader's extensions (Validate, Assignments).

    python -m utils.lab [--port 8888] [--no-browser] [--root DIR] [--token TOKEN]

Starts ``jupyter lab`` in the repository (or ``--root``) with the course's
``nbgrader_config.py`` in effect, so a student can open ``exercises/<assignment>/``, run
it, and press *Validate* in the notebook toolbar to see which visible tests pass. It adds
``--allow-root`` when run as root (containers, CI machines), where Jupyter refuses to start
otherwise, and listens on 127.0.0.1 only. When the port is taken (another Jupyter, a second
course), it says so and uses the next free one (:func:`first_free_port`). nbgrader's
server and lab extensions are enabled by installing nbgrader (``requirements.txt``);
``jupyter server extension list`` shows them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sys
from pathlib import Path

from utils.storage import course_home

REPO = course_home()


def first_free_port(start: int = 8888, tries: int = 50, host: str = "127.0.0.1") -> int:
    """The first port from ``start`` on (at most ``tries`` of them) that ``host`` can listen
    on; OSError, naming the range, when none is free."""
    for port in range(start, start + tries):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return port
    raise OSError(f"no free port in {start}-{start + tries - 1} on {host}: close another Jupyter "
                  f"server or pass --port with a free one")


def lab_command(root: Path, port: int = 8888, token: str | None = None,
                open_browser: bool = True) -> list[str]:
    """The ``jupyter lab`` command line that :func:`main` runs."""
    jupyter = shutil.which("jupyter", path=str(Path(sys.executable).parent)) or "jupyter"
    command = [
        jupyter, "lab", f"--ServerApp.root_dir={root}", "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
    ]
    if token is not None:
        command.append(f"--IdentityProvider.token={token}")
    if not open_browser:
        command.append("--no-browser")
    if hasattr(os, "getuid") and os.getuid() == 0:
        command.append("--allow-root")
    return command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=REPO, help="folder to serve (default: the course)")
    parser.add_argument("--port", type=int, default=8888,
                        help="port to listen on (default 8888; the next free one if it is taken)")
    parser.add_argument("--token", default=None, help="login token (default: a random one)")
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    port = first_free_port(args.port)
    if port != args.port:
        print(f"port {args.port} is in use; JupyterLab will listen on port {port}", file=sys.stderr)
    command = lab_command(root, port, args.token, not args.no_browser)
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    os.chdir(root)  # nbgrader reads nbgrader_config.py from the working directory
    os.execvpe(command[0], command, env)
    return 0  # not reached


if __name__ == "__main__":
    raise SystemExit(main())
