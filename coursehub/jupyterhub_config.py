"""JupyterHub's configuration for the course hub (``jupyterhub -f coursehub/jupyterhub_config.py``).

Reads the layout that ``python -m coursehub setup`` wrote (TL_COURSE_HUB_ROOT/hub.json). It follows
nbgrader's "one class, multiple graders" demo: formgrader runs as a hub service under the grading
account; the group formgrade-COURSE may open it; students log in to their own servers.
"""

import os
import shutil
from pathlib import Path

from coursehub import formgrader_service
from coursehub.environment import server_environment
from coursehub.layout import COURSE_ID, HubLayout
from coursehub.ports import server_port

c = get_config()  # noqa: F821 - provided by JupyterHub

layout = HubLayout.load(Path(os.environ["TL_COURSE_HUB_ROOT"]))
hub_dir = layout.hub_dir
# the users' servers: the course's .venv through an interpreter they may run (coursehub/runtime.py)
runtime_bin = layout.runtime_venv / "bin"

# --- where it listens: loopback only (the proxy, the hub, every single-user server, the service)
c.JupyterHub.bind_url = layout.url
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = layout.hub_port
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{layout.proxy_api_port}"
c.ConfigurableHTTPProxy.command = [shutil.which("configurable-http-proxy") or "configurable-http-proxy"]
c.ConfigurableHTTPProxy.pid_file = str(hub_dir / "proxy.pid")
c.Spawner.ip = "127.0.0.1"
c.JupyterHub.db_url = f"sqlite:///{hub_dir / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(hub_dir / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(hub_dir / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every user's server
c.JupyterHub.cleanup_proxy = True

# --- login: PAM against the system accounts the setup created (the hub runs as root, as
# LocalProcessSpawner needs to start servers as those users). No PAM session: containers have no logind.
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.open_sessions = False
c.Authenticator.allowed_users = set(layout.login_users)

# --- groups and roles, as nbgrader documents them
formgrade_group, students_group = f"formgrade-{COURSE_ID}", f"nbgrader-{COURSE_ID}"
c.JupyterHub.load_groups = {
    formgrade_group: {"users": layout.staff},
    students_group: {"users": layout.student_users},
}
c.JupyterHub.load_roles = [
    {
        "name": formgrade_group,
        "groups": [formgrade_group],
        "scopes": [f"access:services!service={COURSE_ID}", "list:services", f"read:services!service={COURSE_ID}"],
    },
    {"name": students_group, "groups": [students_group], "scopes": ["list:services", f"read:services!service={COURSE_ID}"]},
    # the Course List extension asks the hub for the services with the server's token
    {"name": "server", "scopes": ["inherit"]},
]


# --- students', instructors' and graders' own servers: the course's .venv, in their homes
c.Spawner.cmd = [str(runtime_bin / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.disable_user_config = True  # ~/.jupyter cannot switch formgrader on, nor the exchange
c.Spawner.start_timeout = 180  # a loaded 2-core machine starts JupyterLab slowly
c.Spawner.http_timeout = 180


def pre_spawn_hook(spawner):
    role = "instructor" if spawner.user.name in layout.staff else "student"
    spawner.environment = {**spawner.environment, **server_environment(layout, role)}
    spawner.port = server_port(spawner.ip or "127.0.0.1")  # not a kernel's: coursehub/ports.py


c.Spawner.pre_spawn_hook = pre_spawn_hook

# --- formgrader: the grading account's server in the course directory, as a hub service named
# after the course (nbgrader's Course List finds it by that name). coursehub/formgrader_service.py
# starts it once the hub is up (why not JupyterHub itself: see there).
c.JupyterHub.services = [
    {
        "name": COURSE_ID,
        "url": f"http://127.0.0.1:{layout.service_port}",
        "api_token": formgrader_service.token(layout),
        "oauth_no_confirm": True,
    }
]
