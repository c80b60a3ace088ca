"""Where the course keeps what it downloads or generates: names and folders only.

A module without heavy imports (no numpy, no torch), so that the grader and the grading
sandbox (:mod:`utils.sandbox`) can find the course's data folders cheaply.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "COURSE_DATA_DIR"
CACHE_DIR_ENV = "COURSE_CACHE_DIR"
APP_NAME = "aevae-course"


def cache_dir() -> Path:
    """The user cache of the course: ``$COURSE_CACHE_DIR`` or ``~/.cache/aevae-course``."""
    explicit = os.environ.get(CACHE_DIR_ENV)
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / APP_NAME
