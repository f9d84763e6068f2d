"""requirements.txt is the one human-edited list of versions; the locks are written from it (tests/test_lock.py
checks they are current), and environment.yml, Binder, pyproject and the Makefile follow them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from conftest import REPO_ROOT


def _requirements() -> dict[str, str]:
    pins = {}
    for line in (REPO_ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            requirement, _, marker = line.partition(";")
            name, _, version = requirement.strip().partition("==")
            assert version, f"unpinned requirement: {line}"
            assert pins.get(name.lower(), version) == version, f"{name} pinned twice, differently"
            pins[name.lower()] = version
    return pins


def test_every_requirement_is_pinned_exactly():
    pins = _requirements()
    assert pins["torch"] and pins["torchvision"], "torch and torchvision must be pinned together"
    assert {"tensorflow-cpu", "tensorflow", "keras", "nbgrader", "nbval", "jupyterlab", "jupyter-book", "uv", "ruff"} <= set(pins)
    assert pins["tensorflow"] == pins["tensorflow-cpu"], "one TensorFlow release on every platform"


def test_environment_yml_delegates_to_the_lock():
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    assert "python=3.11" in deps and "pip" in deps
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict))
    assert pip_section == ["-r requirements.lock"], "conda users get exactly the locked versions"
    conda_packages = [d for d in deps if isinstance(d, str) and d not in ("python=3.11", "pip")]
    assert not conda_packages, f"versions belong in requirements.txt, not environment.yml: {conda_packages}"
    # pip refuses an editable install beside hashed requirements: Binder adds the course package after
    post_build = (REPO_ROOT / "postBuild").read_text()
    assert "pip install --no-deps -e ." in post_build and (REPO_ROOT / "postBuild").stat().st_mode & 0o111


def test_makefile_installs_the_lock_with_uv_at_the_pinned_version():
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert re.search(r"^UV_VERSION := (\S+)$", makefile, re.M).group(1) == _requirements()["uv"]
    assert "pip sync --python $(BIN)/python --require-hashes --compile-bytecode $(LOCK)" in makefile
    assert "requirements-gpu.lock" in makefile and "nvidia-smi" in makefile


@pytest.mark.parametrize("module", ["tensorflow", "torch", "nbgrader", "jupyter_server"])
def test_setup_compiled_the_bytecode_that_sandboxed_kernels_cannot_write(module):
    """make setup writes every .pyc: a sandboxed or hub kernel (read-only .venv) or a shell with
    PYTHONDONTWRITEBYTECODE=1 would otherwise compile each module again at every import."""
    import importlib.util

    spec = importlib.util.find_spec(module)
    if spec is None:
        pytest.skip(f"{module} is not installed")
    package = Path(spec.origin).parent
    sources = [p for p in package.rglob("*.py") if "__pycache__" not in p.parts]
    missing = [p for p in sources if not Path(importlib.util.cache_from_source(str(p))).is_file()]
    # a few files are for newer Pythons only (torch/testing/_internal/py312_intrinsics.py) and cannot compile here
    assert len(missing) <= len(sources) // 100, (
        f"{len(missing)} of {len(sources)} modules of {module} have no .pyc (e.g. {missing[0]}): run make setup"
    )


def test_pyproject_names_no_versions():
    text = (REPO_ROOT / "pyproject.toml").read_text()
    deps = re.search(r"^dependencies = \[(.*?)\]", text, re.M | re.S).group(1)
    assert not re.search(r"[<>=~]", deps), "versions belong in requirements.txt"


def test_plain_pytest_works_from_another_directory(tmp_path):
    """`make setup` puts the repository on .venv's sys.path (a path file), so the tools and tests/conftest.py
    import without PYTHONPATH or a particular working directory."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER")}
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "pytest"),
            "-q",
            "-p",
            "no:xdist",
            "--collect-only",
            str(REPO_ROOT / "tests" / "test_environment_files.py"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, (
        f"plain pytest from {tmp_path} fails; run `make setup`:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
    )
    probe = "import autograder, bench, coursebook, coursetools, helpers; print(coursetools.__file__)"
    where = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert where.returncode == 0 and where.stdout.startswith(str(REPO_ROOT)), where.stderr[-2000:]


def test_learners_package_holds_only_helpers():
    """What learners install (pip install of this repository, e.g. Colab's install cell) ships helpers alone;
    the repository's tools reach .venv only through make setup's path file."""
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    packages = pyproject["tool"]["setuptools"]["packages"]
    assert packages[0] == "helpers" and all(name.startswith("helpers.") for name in packages[1:]), packages
    assert "optional-dependencies" not in pyproject["project"] or "dev" not in pyproject["project"]["optional-dependencies"]


@pytest.mark.parametrize(
    "gpu_listed,args,lock",
    [
        (False, [], "requirements.lock"),
        (True, [], "requirements-gpu.lock"),
        (False, ["GPU=1"], "requirements-gpu.lock"),
        (True, ["GPU=0"], "requirements.lock"),
    ],
)
def test_make_setup_installs_the_gpu_lock_where_nvidia_smi_lists_a_gpu(tmp_path, gpu_listed, args, lock):
    """A stand-in nvidia-smi (one that lists a GPU, or one that fails as without a driver); make -n only prints."""
    fake = tmp_path / "bin" / "nvidia-smi"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-0)'\n" if gpu_listed else "#!/bin/sh\nexit 9\n")
    fake.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "GPU"}
    env["PATH"] = f"{fake.parent}{os.pathsep}{env['PATH']}"
    done = subprocess.run(
        ["make", "-n", "setup", f"VENV={tmp_path / 'venv'}", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert f"--require-hashes --compile-bytecode {lock}" in done.stdout, done.stdout
