"""The real JupyterLab that learners and instructors use, driven as they would drive it.

One server for the module (started as `make lab` starts it, see tests/lab_server.py):
the contents API lists the lessons, a kernel started for a lesson (as JupyterLab does, through
a session) runs the lesson's setup cells over the websocket, nbgrader's server extensions
answer with this course's configuration, and headless Chromium lands in lessons/, opens a
lesson by double clicks, shows nbgrader's Validate button, and validates an unanswered quiz
(every test cell reported). Screenshots go to artifacts/jupyterlab/. The server and its kernels
are ended by process id afterwards, also when a test fails, and no committed notebook changes.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import REPO_ROOT, lesson_names
from lab_server import COURSE_JUPYTER_CONFIG, KernelConnection, start_lab_server

import nbformat
import nbgrader

LESSONS = lesson_names()
LESSON = "01_concepts"  # the lightest lesson (PyTorch only); its setup cells run in seconds
LESSON_PATH = f"lessons/{LESSON}/{LESSON}.ipynb"
COURSE_ID = "transfer-learning-cv"  # nbgrader_config.py
# Validate runs the whole notebook on the server: the quiz is the lesson that takes seconds.
VALIDATE_LESSON = "05_quiz"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    # nbgrader/ holds the instructor's gradebook (git-ignored; `make lessons` and `make lab`
    # create it): the formgrader opens nbgrader/gradebook.db there, as it does for an instructor.
    (REPO_ROOT / "nbgrader").mkdir(exist_ok=True)
    before = course_notebooks()
    checkpoints_before = set((REPO_ROOT / "lessons").glob("*/.ipynb_checkpoints"))
    server = start_lab_server(tmp_path_factory.mktemp("jupyterlab"))
    print(f"\nJupyterLab answered after {server.start_seconds:.1f} s (pid {server.process.pid}, port {server.port})")
    try:
        yield server
    finally:
        server.stop()
        print(f"JupyterLab (pid {server.process.pid}) and its kernels are gone")
        # JupyterLab checkpoints a notebook when it opens it; leave no such litter in lessons/.
        for folder in set((REPO_ROOT / "lessons").glob("*/.ipynb_checkpoints")) - checkpoints_before:
            shutil.rmtree(folder, ignore_errors=True)
    changed = sorted(path for path, content in course_notebooks().items() if before.get(path) != content)
    assert not changed, f"the tests changed committed notebooks: {changed}"


def course_notebooks() -> dict[str, bytes]:
    return {
        str(p.relative_to(REPO_ROOT)): p.read_bytes()
        for folder in ("lessons", "solutions")
        for p in (REPO_ROOT / folder).glob("*/*.ipynb")
    }


def test_make_lab_starts_the_server_the_tests_start():
    """`make lab` and tests/lab_server.py must share the course settings the tests check."""
    dry_run = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", "lab"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert dry_run.returncode == 0, dry_run.stderr
    assert f'JUPYTER_CONFIG_PATH="{REPO_ROOT}/jupyter_config' in dry_run.stdout, dry_run.stdout
    assert "JUPYTER_PREFER_ENV_PATH=1" in dry_run.stdout and ".venv/bin/jupyter lab" in dry_run.stdout
    assert str(COURSE_JUPYTER_CONFIG) == f"{REPO_ROOT}/jupyter_config"


def test_lessons_kernel_and_nbgrader_through_the_server(lab):
    # Contents API: the file browser's view of lessons/.
    listing = lab.get_json("/api/contents/lessons")
    assert sorted(item["name"] for item in listing["content"] if item["type"] == "directory") == LESSONS
    notebook = lab.get_json(f"/api/contents/{LESSON_PATH}", content=1)
    assert notebook["type"] == "notebook"
    cells = notebook["content"]["cells"]
    kernel_name = notebook["content"]["metadata"]["kernelspec"]["name"]

    # The kernel offered is this environment's Python, and it is the default (nobody picks one).
    specs = lab.get_json("/api/kernelspecs")
    assert specs["default"] == kernel_name == "python3", specs["default"]
    kernel_python = Path(specs["kernelspecs"][kernel_name]["spec"]["argv"][0])
    assert kernel_python.parent == Path(sys.prefix) / "bin", f"kernel runs {kernel_python}, not the course's .venv"

    # Open the lesson as JupyterLab does: a session for the notebook starts its kernel.
    response = lab.request(
        "POST",
        "/api/sessions",
        json={
            "path": LESSON_PATH,
            "name": f"{LESSON}.ipynb",
            "type": "notebook",
            "kernel": {"name": kernel_name},
        },
    )
    assert response.status_code == 201, response.text
    session = response.json()
    connection = KernelConnection(lab, session["kernel"]["id"], uuid.uuid4().hex)
    try:
        # The setup cells: everything up to and including the locked cell with id "setup"
        # (the Colab install cell, which must do nothing here, the cost cell, the imports and
        # the device report).
        ids = [cell.get("id") for cell in cells]
        assert "setup" in ids, f"{LESSON} has no cell with id 'setup'"
        setup_cells = [c for c in cells[: ids.index("setup") + 1] if c["cell_type"] == "code"]
        outputs = {}
        started = time.perf_counter()
        for cell in setup_cells:
            result = connection.execute(cell["source"])
            assert result.status == "ok" and not result.errors, f"cell {cell['id']}: {result.errors}"
            outputs[cell["id"]] = result.stdout
        setup_seconds = time.perf_counter() - started
        assert "Successfully installed" not in "".join(outputs.values()), "the Colab cell installed packages"
        assert "torch_device" in outputs["setup"], f"no device report in:\n{outputs['setup']}"

        probe = connection.execute(
            "import json, os, sys\nprint(json.dumps({'prefix': sys.prefix, 'cwd': os.getcwd(),"
            " 'mode': report['mode'], 'device': report['torch_device']}))"
        )
        assert probe.status == "ok", probe.errors
        facts = json.loads(probe.stdout.strip().splitlines()[-1])
        assert facts["prefix"] == sys.prefix, "the lesson's kernel is not the course's environment"
        assert Path(facts["cwd"]) == REPO_ROOT / "lessons" / LESSON
        assert facts["mode"] == "quick" and facts["device"]
        print(f"setup cells of {LESSON}: {setup_seconds:.1f} s; device: {facts['device']}")
    finally:
        connection.close()
    assert lab.request("DELETE", f"/api/sessions/{session['id']}").status_code == 204
    assert lab.get_json("/api/kernels") == []

    # nbgrader's server extensions, configured by the repo's nbgrader_config.py.
    version = lab.get_json("/nbgrader_version", version=nbgrader.__version__)
    assert version == {"success": True}, version
    assert lab.get_json("/formgrader/api/status") == {"status": True}
    page = lab.request("GET", "/formgrader")
    assert page.status_code == 200 and "Manage Assignments" in page.text, page.status_code
    assignments = lab.get_json("/formgrader/api/assignments")
    # solutions/ is nbgrader's source folder only through nbgrader_config.py.
    assert sorted(a["name"] for a in assignments) == LESSONS, assignments
    courses = lab.get_json("/courses")
    assert courses["success"], courses
    listed = lab.get_json("/assignments", course_id=COURSE_ID)
    assert listed["success"], listed

    # The course's JupyterLab settings (jupyter_config/) are in effect: the learner lands in
    # lessons/, and nothing calls home (news feed, update check, PyPI in the extension manager).
    landing = lab.request("GET", "/", allow_redirects=False)
    assert urlparse(landing.headers.get("Location", "")).path == "/lab/tree/lessons", landing.headers
    page_config = json.loads(
        re.search(
            r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', lab.request("GET", "/lab").text, re.S
        ).group(1)
    )
    assert page_config["serverRoot"] == str(REPO_ROOT)
    assert page_config["news"] == {"disabled": True}
    assert page_config["extensionManager"]["name"] == "read-only"
    assert "@jupyter/nbgrader" in {e["name"] for e in page_config["federated_extensions"]}
    notification = lab.get_json("/lab/api/settings/@jupyterlab/apputils-extension:notification")
    defaults = {k: v.get("default") for k, v in notification["schema"]["properties"].items()}
    assert defaults["fetchNews"] == "false" and defaults["checkForUpdates"] is False, defaults
    assert lab.get_json("/lab/api/news")["news"] == []
    assert lab.get_json("/lab/api/update")["notification"] is None


def test_learner_opens_a_lesson_and_validates_in_chromium(lab):
    from browser import artifacts_dir, chromium_page
    from playwright.sync_api import expect

    shots = artifacts_dir("jupyterlab")
    (shots / "failure.png").unlink(missing_ok=True)
    kernel_display_name = lab.get_json("/api/kernelspecs")["kernelspecs"]["python3"]["spec"]["display_name"]
    # Validate saves the notebook before checking it, so it works on a scratch copy (never on the
    # committed lesson); the copy must lie under the server's root, i.e. in the (ignored) artifacts/.
    scratch = REPO_ROOT / "artifacts" / "jupyterlab-validate"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    quiz = REPO_ROOT / "lessons" / VALIDATE_LESSON / f"{VALIDATE_LESSON}.ipynb"
    shutil.copy(quiz, scratch / quiz.name)
    test_cells = [
        c
        for c in nbformat.read(quiz, as_version=4).cells
        if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution")
    ]
    off_host = []

    def keep_local(route):
        # Everything the page loads must come from this server: no CDN, no news, no fonts.
        if urlparse(route.request.url).netloc == f"127.0.0.1:{lab.port}":
            route.continue_()
        else:
            off_host.append(route.request.url)
            route.abort()

    try:
        with chromium_page(viewport=(1400, 900)) as page:
            try:
                page.route("**/*", keep_local)
                # The address `make lab` prints: the learner lands in lessons/ ...
                started = time.perf_counter()
                page.goto(f"{lab.url}/?token={lab.token}", wait_until="domcontentloaded")
                listing = page.locator(".jp-DirListing-content .jp-DirListing-itemText")
                listing.first.wait_for(state="visible", timeout=90_000)
                page.wait_for_function(
                    "n => document.querySelectorAll('.jp-DirListing-content .jp-DirListing-item').length >= n",
                    arg=len(LESSONS),
                    timeout=30_000,
                )
                assert urlparse(page.url).path == "/lab/tree/lessons", page.url
                assert sorted(listing.all_inner_texts()) == LESSONS
                # ... and opens a lesson from the file browser, by double clicks.
                listing.get_by_text(LESSON, exact=True).dblclick()
                listing.get_by_text(f"{LESSON}.ipynb", exact=True).dblclick()
                panel = page.locator(".jp-NotebookPanel:visible")  # the current tab
                panel.locator(".jp-Cell").first.wait_for(state="visible", timeout=60_000)
                validate = panel.locator(".jp-NotebookPanel-toolbar .validate-button")
                validate.wait_for(state="visible", timeout=60_000)
                # The lesson's kernel, the course's, starts unasked (no "Select Kernel" dialog) and idles.
                expect(panel.locator(".jp-Toolbar-kernelName")).to_have_text(kernel_display_name, timeout=90_000)
                panel.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(state="attached", timeout=90_000)
                assert page.locator(".jp-Dialog").count() == 0, page.locator(".jp-Dialog").first.inner_text()
                assert panel.locator(".jp-MarkdownOutput h1").first.inner_text().startswith("Transfer learning")
                assert validate.inner_text().strip() == "Validate"
                page.screenshot(path=str(shots / f"{LESSON}.png"))
                opened = time.perf_counter() - started

                # Validate, as a learner who answered nothing yet: every test cell must be reported.
                # ?reset: a fresh workspace, so the lesson opened above is not restored beside it.
                page.goto(f"{lab.url}/lab/tree/{scratch.relative_to(REPO_ROOT).as_posix()}/{quiz.name}?reset")
                panel = page.locator(".jp-NotebookPanel:visible")
                expect(page.locator(".jp-NotebookPanel")).to_have_count(1, timeout=60_000)
                expect(page).to_have_title(re.compile(re.escape(quiz.name)))  # the current document
                expect(panel.locator(".jp-Toolbar-kernelName")).to_have_text(kernel_display_name, timeout=90_000)
                panel.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(state="attached", timeout=90_000)
                started = time.perf_counter()
                panel.locator(".jp-NotebookPanel-toolbar .validate-button").click()
                dialog = page.locator(".jp-Dialog")
                dialog.wait_for(state="visible", timeout=180_000)
                report = dialog.inner_text()
                validated = time.perf_counter() - started
                page.screenshot(path=str(shots / f"{VALIDATE_LESSON}-validate.png"))
            except Exception:
                page.screenshot(path=str(shots / "failure.png"))  # what the page showed, for CI
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(
        f"browser: {LESSON} open and idle {opened:.1f} s; {VALIDATE_LESSON} validated in {validated:.1f} s;"
        f" screenshots in {shots}"
    )
    assert report.startswith("Validation Results"), report[:500]
    assert report.count("The following cell failed") == len(test_cells), report[:2000]
    assert not off_host, f"the page tried to reach other hosts: {off_host[:5]}"
    assert (shots / f"{LESSON}.png").stat().st_size > 10_000


def test_server_and_its_kernel_die_with_a_killed_test_process(tmp_path):
    """SIGKILL leaves no finalizer to run: the server must still go, and take its kernel along."""
    import psutil

    starter = (
        "import sys, time\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from pathlib import Path\n"
        "from lab_server import start_lab_server\n"
        f"server = start_lab_server(Path({str(tmp_path / 'lab')!r}))\n"
        "assert server.request('POST', '/api/kernels', json={'name': 'python3'}).status_code == 201\n"
        "print(server.process.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", starter], stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    family = []
    try:
        server_pid = int(parent.stdout.readline().strip() or 0)
        assert server_pid, "the starter process could not start JupyterLab"
        server = psutil.Process(server_pid)
        deadline = time.time() + 60
        while not server.children(recursive=True) and time.time() < deadline:
            time.sleep(0.5)
        family = [server, *server.children(recursive=True)]
        assert len(family) >= 2, "no kernel process was started"
        parent.kill()  # as a CI timeout or a crashed xdist worker would
        parent.wait(timeout=10)
        gone, alive = psutil.wait_procs(family, timeout=60)
        assert not [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE], (
            f"outlived the killed test process: {[(p.pid, p.name()) for p in alive]}"
        )
    finally:
        parent.kill()
        for process in family:  # never leave them behind, even when the assertion above failed
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
