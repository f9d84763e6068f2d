"""The learner distribution (coursetools/learner_dist.py): what it holds, that no answer is in it,
that each flavour is a branch nbgitpuller can pull, and that helpers' wheel alone, in a fresh venv
with the frameworks' pins, runs its lessons in quick mode as a Colab learner's would.

The fresh venv is made with uv, which hardlinks what its cache holds and downloads the rest (CI
keeps uv's cache between runs; UV_OFFLINE=1 makes it cache-only). It holds the wheel, the frameworks' pins from requirements.lock, and
ipykernel + nbclient to execute the notebooks, nothing of the repository. ``make test`` runs the
lessons in ``FRESH_VENV_LESSONS`` there (one Keras, one torch, the quiz); DIST_ALL_LESSONS=1 runs all.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest
from lesson_runs import unexpected_errors

from coursebook import dist_scan
from coursetools import learner_dist
from coursetools.paths import REPO_ROOT, lesson_names
from coursetools.runner import kernel_env
from helpers.quiz_key import ANSWER_HASHES

LESSONS = lesson_names()
FRESH_VENV_LESSONS = ("02_vgg16_feature_extraction", "04_pytorch_resnet18", "05_quiz")
# What a Colab learner's environment has that matters: the frameworks and the kernel machinery.
FRAMEWORKS = ("torch", "torchvision", "tensorflow-cpu", "tensorflow", "keras", "ipykernel", "nbclient")
NEVER_SHIPPED = ("solutions", "autograder", "coursebook", "coursetools", "bench", "tests", "nbgrader_config.py", "Makefile")


@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    return {flavour: learner_dist.build(flavour, out) for flavour in learner_dist.FLAVOURS}


def _files(folder: Path) -> list[str]:
    return sorted(
        str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and ".git" not in p.relative_to(folder).parts
    )


# --------------------------------------------------------------------------- contents


@pytest.mark.parametrize("flavour", learner_dist.FLAVOURS)
def test_distribution_holds_the_lessons_helpers_and_manifests_and_nothing_of_the_instructors(dists, flavour):
    folder = dists[flavour].folder
    files = _files(folder)
    for name in LESSONS:
        assert f"lessons/{name}/{name}.ipynb" in files
    assert "helpers/quiz.py" in files and "README.md" in files and "docs/intro.md" in files
    assert [f for f in files if f.startswith("helpers/manifests/") and f.endswith(".sha256")]
    for forbidden in NEVER_SHIPPED:
        assert not (folder / forbidden).exists(), f"{flavour}: {forbidden} is in the learner distribution"
    assert learner_dist.FLAVOUR_NOTES[flavour] in (folder / "README.md").read_text()


@pytest.mark.parametrize("flavour", learner_dist.FLAVOURS)
def test_no_solution_hidden_test_or_answer_line_is_in_any_file(dists, flavour):
    secrets = dist_scan.secret_lines(flavour)
    scanned, leaks = dist_scan.scan(dists[flavour].folder, secrets)
    print(f"{flavour}: {len(leaks)} of {len(secrets)} lines found in {scanned} files")
    assert len(secrets) > 200 and scanned >= len(LESSONS) + 20
    assert not leaks, "\n".join(f"{leak.path}: {leak.what}" for leak in leaks)


def test_the_scan_finds_a_planted_solution_line_and_an_answer_hash(tmp_path, dists):
    copy = tmp_path / "copy"
    shutil.copytree(dists["graded"].folder, copy, ignore=shutil.ignore_patterns(".git"))
    secrets = dist_scan.secret_lines("graded")
    quiz_answer = next(s for s in secrets if s.notebook == "05_quiz" and s.line.startswith("q1 ="))
    code_line = next(s for s in secrets if s.notebook == "04_pytorch_resnet18" and len(s.line) > 20)
    # a docstring example that gives q1's answer (as helpers/quiz.py's once did), a solution line, a hash
    (copy / "helpers" / "notes.py").write_text(f'"""Example: ``{quiz_answer.line}``"""\n')
    (copy / "docs" / "extra.md").write_text(f"    {code_line.line}\n")
    (copy / "helpers" / "key.json").write_text(json.dumps({"q1": ANSWER_HASHES["q1"]}))
    _, leaks = dist_scan.scan(copy, secrets)
    assert {leak.path.name for leak in leaks} == {"notes.py", "extra.md", "key.json"}


def test_graded_flavour_ships_no_answer_key_and_self_paced_does(dists):
    graded = (dists["graded"].folder / "helpers" / "quiz_key.py").read_text()
    assert "ANSWER_HASHES = None" in graded and not re.search(r"[0-9a-f]{64}", graded)
    self_paced = (dists["self-paced"].folder / "helpers" / "quiz_key.py").read_text()
    assert all(digest in self_paced for digest in ANSWER_HASHES.values())


def _run_helpers(folder: Path, code: str) -> str:
    """Run ``code`` in a fresh Python that imports helpers from ``folder`` (a built distribution)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-I", "-B", "-c", f"import sys; sys.path.insert(0, {str(folder)!r})\n{textwrap.dedent(code)}"],
        capture_output=True,
        text=True,
        env=env,
        cwd=folder,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_graded_quiz_records_answers_checks_their_form_and_never_judges(dists):
    out = _run_helpers(
        dists["graded"].folder,
        """
        import helpers.quiz as quiz
        from helpers.errors import AnswerKeyNotShippedError
        from helpers.quiz_widget import widget_html
        assert quiz.__file__.startswith(sys.path[0]), quiz.__file__
        quiz.show_feedback("q1", "a")
        quiz.show_feedback("q1", "z")
        print(quiz.check_all({"q1": "a"}))
        print(widget_html("q1"))
        try:
            quiz.check("q1", "a")
        except AnswerKeyNotShippedError as err:
            print("raised:", err)
        """,
    )
    assert "q1: answer recorded ('a'); self-check is off in this graded class" in out
    assert 'q1: Not yet: answer with one letter: "a", "b", "c", "d" (got \'z\')' in out
    assert "1 of 15 questions answered" in out and "\nNone\n" in out
    assert "raised: q1: the answer key is not shipped in a graded class" in out
    assert "data-hash" not in out and "<button" not in out and "Correct" not in out


def test_self_paced_quiz_gives_instant_feedback(dists):
    out = _run_helpers(
        dists["self-paced"].folder,
        """
        import helpers.quiz as quiz
        from helpers.quiz_widget import widget_html
        assert quiz.__file__.startswith(sys.path[0]), quiz.__file__
        quiz.show_feedback("q3", "not a bool")
        print("hash" in widget_html("q1") and "<button" in widget_html("q1"))
        """,
    )
    assert "q3: Not yet: answer with True or False" in out and "True" in out


def test_reference_answers_are_stubbed_generically_in_the_graded_flavour(tmp_path):
    """Any module of helpers/reference_answers/ is replaced by one that raises; its lines are gone."""
    root = tmp_path / "repo"
    for name in ("lessons", "helpers", "docs", "solutions"):
        shutil.copytree(REPO_ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__", "reference_answers"))
    for name in learner_dist.TOP_FILES:
        shutil.copy2(REPO_ROOT / name, root / name)
    package = root / "helpers" / "reference_answers"
    package.mkdir()
    (package / "__init__.py").write_text('"""Reference answers: frozen_base returns the backbone."""\n')
    (package / "lesson_x.py").write_text(
        textwrap.dedent('''
        """Lesson x's answers."""
        SECRET_SIZE = 123


        def frozen_base(image_size=160):
            """The frozen backbone."""
            backbone = make_the_backbone_somehow(image_size)
            return backbone


        class Head:
            pass
        ''')
    )
    built = {f: learner_dist.build(f, tmp_path / "out", root=root) for f in learner_dist.FLAVOURS}
    stub = (built["graded"].folder / "helpers" / "reference_answers" / "lesson_x.py").read_text()
    assert "make_the_backbone_somehow" not in stub and "123" not in stub and "160" not in stub
    assert (
        "make_the_backbone_somehow" in (built["self-paced"].folder / "helpers" / "reference_answers" / "lesson_x.py").read_text()
    )
    secrets = dist_scan.secret_lines("graded", root)
    assert any("make_the_backbone_somehow" in s.line for s in secrets)
    assert not dist_scan.scan(built["graded"].folder, secrets)[1]
    assert dist_scan.scan(built["self-paced"].folder, secrets)[1]  # the self-paced copy has them, by design
    out = _run_helpers(
        built["graded"].folder,
        """
        from helpers.reference_answers import lesson_x
        from helpers.reference_answers.lesson_x import frozen_base, Head
        for call in (lambda: frozen_base(224), lambda: Head(), lambda: lesson_x.SECRET_SIZE):
            try:
                call()
            except NotImplementedError as err:
                print(err)
        print(sorted(lesson_x.__all__))
        """,
    )
    assert out.count("not shipped in a graded class: write the cell yourself") == 3
    assert "lesson_x.frozen_base:" in out and "['Head', 'frozen_base']" in out


# --------------------------------------------------------------------------- git branches (nbgitpuller)


def test_each_flavour_is_a_branch_of_the_bare_repository_that_git_clones(dists, tmp_path):
    bare = dists["graded"].bare_repo
    assert dists["self-paced"].bare_repo == bare
    for flavour, dist in dists.items():
        target = tmp_path / flavour
        # what nbgitpuller runs first: a shallow clone of one branch
        subprocess.run(
            ["git", "clone", "--quiet", "--depth", "1", "--branch", flavour, bare.as_uri(), str(target)],
            check=True,
            capture_output=True,
        )
        assert _files(target) == _files(dist.folder)
        assert (
            subprocess.run(["git", "rev-parse", "HEAD"], cwd=target, capture_output=True, text=True).stdout.strip() == dist.commit
        )


def test_rebuilding_the_same_sources_gives_the_same_commit(dists, tmp_path):
    again = learner_dist.build("graded", tmp_path)
    assert again.commit == dists["graded"].commit


def test_nbgitpuller_link_names_the_bare_repository_branch_and_lesson(dists):
    link = learner_dist.nbgitpuller_link(
        "http://127.0.0.1:8000/", dists["graded"].bare_repo, "graded", "lessons/05_quiz/05_quiz.ipynb"
    )
    from urllib.parse import parse_qs, urlsplit

    parts = urlsplit(link)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert parts.path == "/hub/user-redirect/git-pull"
    assert query == {
        "repo": dists["graded"].bare_repo.as_uri(),
        "branch": "graded",
        "urlpath": "lab/tree/transfer-learning-cv/lessons/05_quiz/05_quiz.ipynb",
        "targetpath": "transfer-learning-cv",
    }


# --------------------------------------------------------------------------- wheel, sdist, fresh venv


@pytest.fixture(scope="module")
def wheels(dists, tmp_path_factory):
    found = {}
    for flavour, dist in dists.items():
        files = learner_dist.build_wheel(dist, tmp_path_factory.mktemp(f"wheel-{flavour}"))
        found[flavour] = {p.suffix: p for p in files}
    return found


def test_wheel_and_sdist_hold_helpers_only_and_the_graded_wheel_no_key(wheels):
    import tarfile
    import zipfile

    for flavour, files in wheels.items():
        assert set(files) == {".whl", ".gz"}, files
        names = zipfile.ZipFile(files[".whl"]).namelist()
        packages = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
        assert packages == {"helpers"}, packages
        assert "helpers/manifests/hymenoptera_data.sha256" in names and "helpers/measured_costs.json" in names
        key = zipfile.ZipFile(files[".whl"]).read("helpers/quiz_key.py").decode()
        assert (ANSWER_HASHES["q1"] in key) == (flavour == "self-paced")
        sdist = tarfile.open(files[".gz"]).getnames()
        assert not [n for n in sdist if "/solutions/" in n or "/autograder/" in n or "/tests/" in n]


def _constraints(lock: Path) -> str:
    """requirements.lock as a constraints file: one `name==version ; marker` per package, no hashes."""
    text = lock.read_text().replace("\\\n", " ")
    lines = []
    for line in text.splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            lines.append(re.sub(r"\s*--hash=\S+", "", line).strip())
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory, wheels):
    """A venv with the self-paced wheel, the frameworks' pins and the kernel machinery: nothing else."""
    uv = Path(sys.executable).parent / "uv"
    folder = tmp_path_factory.mktemp("fresh-venv")
    venv = folder / "venv"
    constraints = folder / "constraints.txt"
    constraints.write_text(_constraints(REPO_ROOT / "requirements.lock"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    start = time.perf_counter()
    for args in (
        ["venv", "--quiet", "--python", sys.executable, str(venv)],
        [
            "pip",
            "install",
            "--quiet",
            "--python",
            str(venv / "bin" / "python"),
            "--constraint",
            str(constraints),
            f"{wheels['self-paced']['.whl']}[torch,keras]",
            "ipykernel",
            "nbclient",
        ],
    ):
        done = subprocess.run([str(uv), *args], capture_output=True, text=True, env=env)
        if done.returncode != 0:
            pytest.fail(
                f"uv {' '.join(args[:2])} failed (with UV_OFFLINE=1: is every package of the lock in uv's cache?):\n"
                f"{done.stderr[-3000:]}"
            )
    print(f"fresh venv: {time.perf_counter() - start:.0f} s")
    return venv


DRIVER = textwrap.dedent("""
    import sys, nbformat
    from nbclient import NotebookClient
    source, target = sys.argv[1], sys.argv[2]
    nb = nbformat.read(source, as_version=4)
    probe = "import helpers, sys\\nprint('HELPERS_AT', helpers.__file__, sys.executable)"
    nb.cells.insert(0, nbformat.v4.new_code_cell(probe))
    client = NotebookClient(nb, timeout=900, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": sys.argv[3]}})
    try:
        client.execute()
    finally:
        nbformat.write(nb, target)
""")


def _run_in_fresh_venv(venv: Path, dist_folder: Path, lesson: str, work: Path):
    """Execute one lesson of a distribution with the fresh venv's Python, in quick mode, as a learner's
    copy of the lesson folder; returns the executed notebook and its first cell's probe line."""
    shutil.copytree(dist_folder / "lessons" / lesson, work / lesson)
    (work / "driver.py").write_text(DRIVER)
    env = kernel_env(
        "quick",
        work / "cache",
        {
            "PYTHONPATH": None,
            "VIRTUAL_ENV": str(venv),
            "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
            "JUPYTER_PREFER_ENV_PATH": "1",
            "TORCH_HOME": str(work / "torch"),
            "KERAS_HOME": str(work / "keras"),
            "TL_COURSE_ALLOW_RANDOM_WEIGHTS": "1",  # Keras/ResNet18 ImageNet weights are not in the mirror
            "TL_COURSE_OFFLINE": "1",
            "MPLBACKEND": "Agg",
        },
    )
    output = work / f"{lesson}.executed.ipynb"
    done = subprocess.run(
        [
            str(venv / "bin" / "python"),
            str(work / "driver.py"),
            str(work / lesson / f"{lesson}.ipynb"),
            str(output),
            str(work / lesson),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=work,
        timeout=1800,
    )
    assert done.returncode == 0, f"{lesson}: the run stopped: {done.stderr[-2000:]}"
    nb = nbformat.read(output, as_version=4)
    probe = "".join(o.get("text", "") for o in nb.cells[0].get("outputs", []))
    nb.cells.pop(0)
    return nb, probe


def _wanted(lesson: str) -> None:
    if lesson not in FRESH_VENV_LESSONS and os.environ.get("DIST_ALL_LESSONS") != "1":
        pytest.skip(f"make test runs {', '.join(FRESH_VENV_LESSONS)} in the fresh venv; DIST_ALL_LESSONS=1 runs every lesson")


@pytest.mark.parametrize("lesson", LESSONS)
def test_self_paced_lessons_run_in_quick_mode_from_the_wheel_alone(lesson, fresh_venv, dists, tmp_path, mirror):
    _wanted(lesson)
    nb, probe = _run_in_fresh_venv(fresh_venv, dists["self-paced"].folder, lesson, tmp_path)
    assert f"HELPERS_AT {fresh_venv}" in probe and f"{fresh_venv}/bin/python" in probe, probe
    errors = unexpected_errors(nb)
    assert not errors, f"{lesson} in the fresh venv: {errors}"


def _install_wheel(venv: Path, wheel: Path) -> None:
    """Replace helpers in ``venv`` with ``wheel`` (offline, from uv's cache; no other package changes)."""
    uv = Path(sys.executable).parent / "uv"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    command = [
        str(uv),
        "pip",
        "install",
        "--quiet",
        "--offline",
        "--no-deps",
        "--reinstall",
        "--python",
        str(venv / "bin" / "python"),
    ]
    subprocess.run([*command, str(wheel)], check=True, env=env)


def test_graded_quiz_runs_from_the_graded_wheel_without_feedback(fresh_venv, dists, wheels, tmp_path, mirror):
    _install_wheel(fresh_venv, wheels["graded"][".whl"])
    try:
        nb, _ = _run_in_fresh_venv(fresh_venv, dists["graded"].folder, "05_quiz", tmp_path)
    finally:  # the other tests use the self-paced wheel
        _install_wheel(fresh_venv, wheels["self-paced"][".whl"])
    assert not unexpected_errors(nb)
    text = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert "self-check is off in this graded class" in text and "Correct" not in text and "data-hash" not in text


# --------------------------------------------------------------------------- the published location


def test_published_location_is_one_setting():
    """_config.yml's repository url is the only place that names it: the install cells are written
    from it (make lessons), the launch buttons built from it, and no other tracked file repeats it."""
    from coursetools import install_cell

    url = install_cell.repository_url()
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout.split()
    generated = {f"{folder}/{name}/{name}.ipynb" for folder in ("solutions", "lessons") for name in LESSONS}
    naming = [
        path
        for path in tracked
        if path not in generated | {"_config.yml"}
        and (REPO_ROOT / path).is_file()
        and url.split("://")[-1].split("/", 1)[-1] in (REPO_ROOT / path).read_bytes().decode("utf-8", "replace")  # owner/name
    ]
    assert not naming, f"these files name the published location {url} themselves; read it from _config.yml: {naming}"
    for path in sorted(generated):
        assert install_cell.pinned_requirement() in (REPO_ROOT / path).read_text(), path


def test_a_rebuild_goes_on_top_of_the_last_build_so_learners_copies_update(tmp_path):
    """nbgitpuller updates with `git merge`: a rebuild must continue the branch, not restart it."""
    root = tmp_path / "repo"
    for name in ("lessons", "helpers", "docs", "solutions"):
        shutil.copytree(REPO_ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in learner_dist.TOP_FILES:
        shutil.copy2(REPO_ROOT / name, root / name)
    first = learner_dist.build("graded", tmp_path / "out", root=root)
    learner = tmp_path / "learner"
    subprocess.run(["git", "clone", "--quiet", "--branch", "graded", first.bare_repo.as_uri(), str(learner)], check=True)
    assert learner_dist.build("graded", tmp_path / "out", root=root).commit == first.commit  # nothing changed: no commit
    (root / "docs" / "intro.md").write_text((root / "docs" / "intro.md").read_text() + "\nA new paragraph.\n")
    second = learner_dist.build("graded", tmp_path / "out", root=root)
    parent = subprocess.run(["git", "rev-parse", "HEAD^"], cwd=second.folder, capture_output=True, text=True).stdout.strip()
    assert second.commit != first.commit and parent == first.commit
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "l",
        "GIT_AUTHOR_EMAIL": "l@x",
        "GIT_COMMITTER_NAME": "l",
        "GIT_COMMITTER_EMAIL": "l@x",
    }
    subprocess.run(["git", "fetch", "--quiet"], cwd=learner, check=True)
    subprocess.run(
        ["git", "merge", "--quiet", "-Xours", "origin/graded"], cwd=learner, check=True, env=env
    )  # what nbgitpuller runs
    assert "A new paragraph." in (learner / "docs" / "intro.md").read_text()


# third-party modules helpers imports -> the distribution that provides them (as pyproject names it)
DISTRIBUTIONS = {"PIL": "pillow", "sklearn": "scikit-learn", "pillow_heif": "pillow-heif", "tensorflow": "tensorflow-cpu"}


def test_the_wheel_declares_every_package_helpers_imports():
    """A learner who installs only the wheel (Colab) gets what helpers imports: found by a fresh-venv
    run of lesson 06, which failed on `No module named 'imagehash'` before pyproject listed it."""
    import ast
    import tomllib

    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    declared = {re.split(r"[\s;<>=\[]", d)[0].lower() for d in project["dependencies"]}
    declared |= {re.split(r"[\s;<>=\[]", d)[0].lower() for ds in project["optional-dependencies"].values() for d in ds}
    imported = set()
    for path in (REPO_ROOT / "helpers").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = {m for m in imported if m not in sys.stdlib_module_names and m not in ("helpers", "__future__")}
    missing = sorted(m for m in third_party if DISTRIBUTIONS.get(m, m).lower() not in declared)
    assert not missing, f"helpers imports {missing}, which pyproject.toml's dependencies do not name"
