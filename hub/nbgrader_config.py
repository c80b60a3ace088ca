"""nbgrader settings of every user's server on the course hub (found through
``JUPYTER_CONFIG_PATH``, set by ``hub/jupyterhub_config.py``; on a server without that
hub configuration, copy this file to ``/etc/jupyter/nbgrader_config.py``).

Students and instructors share the course id and the exchange folder. An instructor's
server has ``COURSE_ROOT`` (``~/course``, a clone of the course repository): its
``nbgrader_config.py`` is loaded too, so the formgrader grades with the course's settings.
A student is known to nbgrader by the hub's user name (``JUPYTERHUB_USER``), not by the
Unix account the server runs as: that is ``jupyter-<name>`` on The Littlest JupyterHub and
the same ``jovyan`` for everyone on Zero to JupyterHub.
"""

import os
from pathlib import Path

c = get_config()  # noqa: F821 (provided by traitlets)

root = os.environ.get("COURSE_ROOT")
if root:
    root = Path(root).expanduser()
    if (root / "nbgrader_config.py").is_file():
        load_subconfig(str(root / "nbgrader_config.py"))  # noqa: F821
    c.CourseDirectory.root = str(root)
elif os.environ.get("JUPYTERHUB_USER"):
    c.CourseDirectory.student_id = os.environ["JUPYTERHUB_USER"]

c.CourseDirectory.course_id = os.environ.get("COURSE_ID", "aevae-physics")
c.Exchange.root = os.environ.get("COURSE_EXCHANGE", "/srv/nbgrader/exchange")
