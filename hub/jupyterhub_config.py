"""JupyterHub configuration for running the course as a class, with nbgrader's exchange.

    jupyterhub -f hub/jupyterhub_config.py

Everything a deployment changes is an environment variable (defaults in brackets):

COURSE_HUB_DIR        the hub's state: database, cookie secret, and with the local spawner
                      the users' homes [/srv/aevae-hub]
COURSE_HUB_IP / _PORT where the hub is reached [127.0.0.1 / 8000]
COURSE_ID             nbgrader course id [aevae-physics]
COURSE_EXCHANGE       nbgrader's exchange folder, shared by all users [/srv/nbgrader/exchange]
COURSE_INSTRUCTORS    comma-separated user names that grade (formgrader) [instructor]
COURSE_STUDENTS       comma-separated user names allowed to log in [] (empty: any)
COURSE_HUB_AUTH       "pam" (system accounts, one Unix user per person: a department
                      server) or "dummy" (a shared password, every server run as the hub's
                      own Unix user with its home in COURSE_HUB_DIR/home: for tests) [pam]
COURSE_HUB_PASSWORD   the shared password of "dummy" [none: any password]
COURSE_HUB_SERVICE_TOKEN  if set, a service "course-admin" with this API token may manage
                      users and servers (used by tests/test_hub.py to drive the class)

Instructors' servers start in ``~/course`` (a clone of this repository; its
``nbgrader_config.py`` is the course's), where the formgrader finds the course. Every
server gets ``hub/nbgrader_config.py`` (course id and exchange) through
``JUPYTER_CONFIG_PATH``; it makes the hub's user name the nbgrader student id, whatever
Unix account the server runs as.
"""

import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (provided by traitlets)

HERE = Path(__file__).resolve().parent
STATE = Path(os.environ.get("COURSE_HUB_DIR", "/srv/aevae-hub"))
INSTRUCTORS = {u for u in os.environ.get("COURSE_INSTRUCTORS", "instructor").split(",") if u}
STUDENTS = {u for u in os.environ.get("COURSE_STUDENTS", "").split(",") if u}
AUTH = os.environ.get("COURSE_HUB_AUTH", "pam")

c.JupyterHub.ip = os.environ.get("COURSE_HUB_IP", "127.0.0.1")
c.JupyterHub.port = int(os.environ.get("COURSE_HUB_PORT", "8000"))
c.JupyterHub.hub_port = int(os.environ.get("COURSE_HUB_INTERNAL_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ.get('COURSE_HUB_PROXY_API_PORT', '8001')}"
c.ConfigurableHTTPProxy.command = [str(HERE / "node_modules" / ".bin" / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.should_start = True
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

if AUTH == "dummy":
    c.JupyterHub.authenticator_class = "dummy"
    if os.environ.get("COURSE_HUB_PASSWORD"):
        c.DummyAuthenticator.password = os.environ["COURSE_HUB_PASSWORD"]
    c.JupyterHub.spawner_class = "simple"
    c.SimpleLocalProcessSpawner.home_dir_template = str(STATE / "home" / "{username}")
    if os.getuid() == 0:
        c.Spawner.args = ["--allow-root"]  # the servers run as the hub's user: root here
else:
    c.JupyterHub.authenticator_class = "pam"
    c.JupyterHub.spawner_class = "localprocess"

c.Authenticator.admin_users = set(INSTRUCTORS)
c.Authenticator.allowed_users = (STUDENTS | INSTRUCTORS) if STUDENTS else set()
c.Authenticator.allow_all = not STUDENTS

# Single-user servers: JupyterLab from the hub's own environment, with the course's
# nbgrader settings. The exchange folder must exist and be writable by every user.
c.Spawner.cmd = [str(Path(sys.executable).parent / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 120
c.Spawner.environment = {
    "JUPYTER_CONFIG_PATH": str(HERE),
    "COURSE_ID": os.environ.get("COURSE_ID", "aevae-physics"),
    "COURSE_EXCHANGE": os.environ.get("COURSE_EXCHANGE", "/srv/nbgrader/exchange"),
    "COURSE_HUB_DIR": str(STATE),  # marks every process of this hub (servers, kernels)
}
for name in ("COURSE_DATA_DIR", "COURSE_FAST", "COURSE_DEVICE"):
    if name in os.environ:
        c.Spawner.environment[name] = os.environ[name]


def start_in_course(spawner):
    """Instructors work in ~/course, where the formgrader finds nbgrader_config.py."""
    if spawner.user.name in INSTRUCTORS:
        spawner.notebook_dir = "~/course"
        spawner.environment = dict(spawner.environment, COURSE_ROOT="~/course")


c.Spawner.pre_spawn_hook = start_in_course

token = os.environ.get("COURSE_HUB_SERVICE_TOKEN")
if token:
    c.JupyterHub.services = [{"name": "course-admin", "api_token": token}]
    c.JupyterHub.load_roles = [{
        "name": "course-admin",
        "scopes": ["admin:users", "admin:servers", "access:servers", "read:users"],
        "services": ["course-admin"],
    }]
