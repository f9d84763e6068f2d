"""The locks install everywhere learners are, and say what requirements.txt says.

Each lock (requirements.lock, and requirements-gpu.lock for NVIDIA GPUs) is resolved, without installing
anything, for every platform x Python the course supports, accepting wheels only: a package with no wheel
for a platform fails its case, as `tensorflow-cpu` does on macOS (checked below against that pin). uv
answers for the target platform; pip's `--platform` cannot (it evaluates markers for the machine it runs
on). Needs PyPI: on CI it must be reachable, elsewhere the tests skip without it. One online resolution
refreshes uv's cache of the index; the other cases read it, in parallel.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import pytest
from conftest import REPO_ROOT

PLATFORMS = {  # uv's --python-platform; manylinux_2_28: the glibc torch 2.14.1's Linux wheels need
    "linux-x86_64": "x86_64-manylinux_2_28",
    "linux-aarch64": "aarch64-manylinux_2_28",
    "macos-arm64": "aarch64-apple-darwin",
    "windows-x86_64": "x86_64-pc-windows-msvc",
}
PYTHONS = ["3.11", "3.12", "3.13"]
# The CUDA lock only differs on Linux x86-64 (TensorFlow has no CUDA wheels elsewhere).
CASES = [("requirements.lock", p, v) for p in PLATFORMS for v in PYTHONS] + [
    ("requirements-gpu.lock", "linux-x86_64", v) for v in PYTHONS
]
# torch 2.14.1's macOS wheels are tagged macosx_14_0: uv assumes an older macOS unless told.
ENV = {**os.environ, "MACOSX_DEPLOYMENT_TARGET": "14.0", "UV_NO_PROGRESS": "1"}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", re.M)


def _uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if not found:
        pytest.fail("uv is not installed: run `make setup` (it is pinned in requirements.txt)")
    return found


@pytest.fixture(scope="module", autouse=True)
def pypi():
    try:
        urllib.request.urlopen("https://pypi.org/simple/uv/", timeout=10).close()
    except OSError as err:
        if os.environ.get("CI"):
            pytest.fail(f"CI must reach PyPI to check the locks ({err})")
        pytest.skip(f"PyPI is not reachable ({err}): the lock tests need its package index")


def pins(text: str, pairs: bool = False):
    """name -> version of each `name==version` line (names normalised); all (name, version) pairs with pairs=True."""
    found = [(name.lower().replace("_", "-").replace(".", "-"), version) for name, version in PIN.findall(text)]
    return found if pairs else dict(found)


def resolve(requirements: Path, platform: str, python: str, offline: bool = False) -> subprocess.CompletedProcess:
    """uv's resolution of `requirements` for one platform and Python, wheels only, installing nothing.
    offline: from uv's cache only (fails if something is not in it)."""
    command = [_uv(), "pip", "compile", "--quiet", "--no-header", "--no-annotate", "--only-binary", ":all:"]
    command += ["--python-platform", PLATFORMS[platform], "--python-version", python, str(requirements)]
    command += ["--excludes", str(REPO_ROOT / "requirements-excludes.txt")]  # as `make lock` resolves
    return subprocess.run(
        command + (["--offline"] if offline else []), cwd=REPO_ROOT, env=ENV, capture_output=True, text=True, timeout=600
    )


def missed_the_cache(result: subprocess.CompletedProcess) -> bool:
    """An --offline run that failed because uv's cache lacked something, not for its own reason."""
    return result.returncode != 0 and ("network was disabled" in result.stderr or "not found in the cache" in result.stderr)


def resolve_cached_first(requirements: Path, platform: str, python: str) -> subprocess.CompletedProcess:
    """``resolve`` from uv's cache (under a second), online only when the cache lacked what it needed."""
    cached = resolve(requirements, platform, python, offline=True)
    return resolve(requirements, platform, python) if missed_the_cache(cached) else cached


@cache
def _all_resolutions() -> dict[tuple[str, str, str], subprocess.CompletedProcess]:
    """Every case; the first asks PyPI (and so refreshes uv's cache of the index), the others read that
    cache and ask PyPI only when it lacks something (a platform's own packages) or they fail."""
    first = ("requirements-gpu.lock", "linux-x86_64", "3.11")  # the largest set of packages

    def run(case):
        cached = resolve(REPO_ROOT / case[0], case[1], case[2], offline=True)
        return cached if cached.returncode == 0 else resolve(REPO_ROOT / case[0], case[1], case[2])

    results = {first: resolve(REPO_ROOT / first[0], first[1], first[2])}
    with ThreadPoolExecutor(max_workers=8) as pool:
        rest = [case for case in CASES if case != first]
        results.update(zip(rest, pool.map(run, rest)))
    return results


@pytest.mark.parametrize("lock,platform,python", CASES, ids=["-".join(c).replace(".lock", "") for c in CASES])
def test_lock_resolves_to_wheels_without_adding_a_package(lock, platform, python):
    result = _all_resolutions()[(lock, platform, python)]
    assert result.returncode == 0, f"{lock} does not install on {platform}, Python {python}:\n{result.stderr[-3000:]}"
    # a universal lock may pin a package twice (one version per Python range): any of them will do
    locked, resolved = set(pins((REPO_ROOT / lock).read_text(), pairs=True)), pins(result.stdout)
    # every package the platform needs is in the lock, at the lock's version
    strays = {name: version for name, version in resolved.items() if (name, version) not in locked}
    assert not strays, f"{lock} on {platform}, Python {python} needs packages it does not pin: {strays}; run `make lock`"
    cpu_build = platform == "windows-x86_64" or (platform == "linux-x86_64" and lock == "requirements.lock")
    expected = ["tensorflow-cpu"] if cpu_build else ["tensorflow"]
    got = sorted(name for name in resolved if name in ("tensorflow", "tensorflow-cpu"))
    assert got == expected, f"{platform} should get {expected} from {lock}, gets {got}"


def test_the_check_fails_where_a_wheel_is_missing(tmp_path):
    """requirements.txt as it was before the platform markers (tensorflow-cpu everywhere): no macOS or
    Linux aarch64 wheel, so resolution fails there and names the package; x86-64 Linux still resolves."""
    text = (REPO_ROOT / "requirements.txt").read_text()
    version = pins(text)["tensorflow-cpu"]
    unmarked = re.sub(r"^tensorflow(-cpu)?==.*$", "", text, flags=re.M) + f"\ntensorflow-cpu=={version}\n"
    (tmp_path / "requirements.txt").write_text(unmarked)
    platforms = ("macos-arm64", "linux-aarch64", "linux-x86_64")
    _all_resolutions()  # the index in uv's cache is fresh: the cases below read it
    with ThreadPoolExecutor(max_workers=3) as pool:
        done = dict(zip(platforms, pool.map(lambda p: resolve_cached_first(tmp_path / "requirements.txt", p, "3.12"), platforms)))
    for platform in ("macos-arm64", "linux-aarch64"):
        failed = done[platform]
        assert failed.returncode != 0 and "tensorflow-cpu" in failed.stderr, (platform, failed.stderr[-2000:])
    assert done["linux-x86_64"].returncode == 0, done["linux-x86_64"].stderr[-2000:]


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-gpu.lock"])
def test_lock_is_current_with_requirements_txt(lock, tmp_path):
    """Rewriting the lock from its input changes nothing (the lock's own versions are kept as preferences,
    as `make lock` does), so every pin in requirements.txt is what the lock installs."""
    flags = re.search(r"^LOCK_FLAGS := (.*)$", (REPO_ROOT / "Makefile").read_text(), re.M).group(1)
    rule = re.search(
        rf"^\t\$\(UV\) pip compile \$\(LOCK_FLAGS\) \$\(LOCK_ARGS\) (.*) -o {re.escape(lock)}$",
        (REPO_ROOT / "Makefile").read_text(),
        re.M,
    ).group(1)
    fresh = tmp_path / lock
    # shlex-free split: the flags hold one quoted argument, the custom compile command
    args = [a.strip('"') for a in re.findall(r'"[^"]*"|\S+', f"{flags} {rule}")]

    def compile_lock(*extra):
        shutil.copy(REPO_ROOT / lock, fresh)
        return subprocess.run(
            [_uv(), "pip", "compile", *args, *extra, "-o", str(fresh)],
            cwd=REPO_ROOT,
            env=ENV,
            capture_output=True,
            text=True,
            timeout=600,
        )

    _all_resolutions()  # the index in uv's cache is fresh: an offline rewrite reads it
    done = compile_lock("--offline")
    if done.returncode != 0 or fresh.read_text() != (REPO_ROOT / lock).read_text():
        done = compile_lock()  # the cache lacked something, or was older than the lock: ask PyPI
    assert done.returncode == 0, done.stderr[-3000:]
    assert fresh.read_text() == (REPO_ROOT / lock).read_text(), (
        f"{lock} is not what requirements.txt now asks for: run `make lock` and commit requirements.lock and "
        f"requirements-gpu.lock. Changed pins: {set(pins(fresh.read_text(), True)) ^ set(pins((REPO_ROOT / lock).read_text(), True))}"
    )


def test_gpu_lock_has_cuda_tensorflow_beside_torch_and_says_which_cuda_each_uses():
    """What the README says a GPU learner gets: TensorFlow's CUDA 12 libraries (nvidia-*-cu12) next to
    torch 2.14.1's CUDA 13 ones, and none of them in the CPU lock. When a torch/TensorFlow pair shares one
    CUDA, this fails: then update README's GPU section and this test."""
    result = _all_resolutions()[("requirements-gpu.lock", "linux-x86_64", "3.12")]
    assert result.returncode == 0, result.stderr[-3000:]
    resolved = pins(result.stdout)
    nvidia = sorted(name for name in resolved if name.startswith("nvidia-"))
    cuda12 = [n for n in nvidia if n.endswith("-cu12")]
    assert resolved.get("tensorflow") == pins((REPO_ROOT / "requirements-gpu.txt").read_text())["tensorflow"]
    assert "nvidia-cudnn-cu12" in cuda12 and "nvidia-cublas-cu12" in cuda12, nvidia
    assert resolved["nvidia-cublas"].startswith("13."), "torch's cuBLAS is CUDA 13 (see README)"
    cpu = pins(_all_resolutions()[("requirements.lock", "linux-x86_64", "3.12")].stdout)
    assert not [n for n in cpu if n.endswith("-cu12")], "the CPU lock must not carry TensorFlow's CUDA libraries"
