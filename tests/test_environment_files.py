"""requirements.txt is the single source of versions; environment.yml and pyproject follow it."""
from __future__ import annotations

import re

import yaml
from conftest import REPO_ROOT


def _requirements() -> dict[str, str]:
    pins = {}
    for line in (REPO_ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"unpinned requirement: {line}"
            pins[name.lower()] = version
    return pins


def test_every_requirement_is_pinned_exactly():
    pins = _requirements()
    assert pins["torch"] and pins["torchvision"], "torch and torchvision must be pinned together"
    assert {"tensorflow-cpu", "keras", "nbgrader", "nbval", "jupyterlab", "jupyter-book"} <= set(pins)


def test_environment_yml_delegates_to_requirements():
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    assert "python=3.11" in deps and "pip" in deps
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict))
    assert pip_section == ["-r requirements.txt", "-e ."], "conda users get exactly the pinned versions"
    conda_packages = [d for d in deps if isinstance(d, str) and d not in ("python=3.11", "pip")]
    assert not conda_packages, f"versions belong in requirements.txt, not environment.yml: {conda_packages}"


def test_pyproject_names_no_versions():
    text = (REPO_ROOT / "pyproject.toml").read_text()
    deps = re.search(r"^dependencies = \[(.*?)\]", text, re.M | re.S).group(1)
    assert not re.search(r"[<>=~]", deps), "versions belong in requirements.txt"
