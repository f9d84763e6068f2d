"""What a lesson will download before it starts: sizes, times, and what to do offline.

A lesson's first code cells call ``show_downloads(datasets=[...], backbones=[...])``. For each
item it says where it will come from (offline mirror, course cache, or a download of N MB
taking about T seconds) and, when something must be downloaded but the network cannot be
reached, prints the fix instead of letting a later cell fail with a stack trace.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence
from urllib.parse import urlparse

from .data import ASSUMED_DOWNLOAD_MBPS, DATASETS, dataset_spec, locate_dataset
from .errors import CourseError
from .models import BACKBONES, backbone_spec, random_weights_allowed
from .config import env_flag
from .storage import cache_dir

__all__ = ["show_downloads"]

NETWORK_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class Need:
    """One thing a lesson needs on disk."""

    name: str
    what: str
    size_mb: float
    url: str
    source: str  # "offline mirror", "course cache", "framework cache" or "download"

    @property
    def download_seconds(self) -> float:
        return self.size_mb / ASSUMED_DOWNLOAD_MBPS if self.source == "download" else 0.0


def _dataset_need(name: str) -> Need:
    spec = dataset_spec(name)
    try:
        found = locate_dataset(name)
    except CourseError:  # an incomplete copy: it will be fetched again after the user fixes it
        found = None
    source = "download"
    if found is not None:
        source = "offline mirror" if Path(found) == spec.mirror_path() else "course cache"
    return Need(name, "dataset", spec.download_mb, spec.url, source)


def _weights_need(name: str) -> Need:
    spec = backbone_spec(name)
    mirror = spec.mirror_path()
    if _weights_cached(spec):
        source = "framework cache"
    elif mirror is not None and mirror.is_file():
        source = "offline mirror"
    else:
        source = "download"
    return Need(name, f"{spec.framework} ImageNet weights", spec.weights_mb, spec.weights_url, source)


def _weights_cached(spec) -> bool:
    try:
        return spec.cache_path().is_file()
    except ImportError:  # the framework is not installed here
        return False


def cached_items() -> list[str]:
    """Names of datasets and weights that are available without a download."""
    items = []
    for name, spec in DATASETS.items():
        mirror = spec.mirror_path()
        if spec.cache_path().is_dir():
            items.append(f"{name} (cache)")
        elif mirror is not None and mirror.exists():
            items.append(f"{name} (mirror)")
    for name, spec in BACKBONES.items():
        mirror = spec.mirror_path()
        if _weights_cached(spec):
            items.append(f"{name} weights (cache)")
        elif mirror is not None and mirror.exists():
            items.append(f"{name} weights (mirror)")
    return items


def network_reachable(url: str, timeout: float = NETWORK_TIMEOUT_S) -> bool:
    """Whether the host of ``url`` answers a TCP connection (DNS included) within ``timeout``."""
    if env_flag("TL_COURSE_OFFLINE"):
        return False
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def plan_downloads(datasets: Sequence[str] = (), backbones: Sequence[str] = ()) -> list[Need]:
    return [_dataset_need(name) for name in datasets] + [_weights_need(name) for name in backbones]


def show_downloads(datasets: Sequence[str] = (), backbones: Sequence[str] = ()) -> None:
    """Print what this lesson needs, where each item comes from, and the fix when offline.

    Returns None so that a notebook cell ending with it shows only the printed text."""
    needs = plan_downloads(datasets, backbones)
    if not needs:
        print("This lesson downloads nothing.")
        return None
    print("What this lesson needs:")
    for need in needs:
        if need.source == "download":
            where = f"download {need.size_mb:.0f} MB, about {need.download_seconds:.0f} s at {ASSUMED_DOWNLOAD_MBPS:.0f} MB/s"
        else:
            where = f"ready ({need.source})"
        print(f"  - {need.name}, {need.what}: {where}")
    to_download = [need for need in needs if need.source == "download"]
    if not to_download:
        print("Nothing to download.")
        return None
    total_mb = sum(need.size_mb for need in to_download)
    print(f"Downloads: {total_mb:.0f} MB in all, once; they are cached in {cache_dir()} and the frameworks' own caches.")
    reachable = {host: network_reachable(url) for host, url in {urlparse(n.url).hostname: n.url for n in to_download}.items()}
    offline = [need for need in to_download if not reachable[urlparse(need.url).hostname]]
    if offline:
        names = ", ".join(need.name for need in offline)
        print(
            f"\nNO NETWORK: {names} cannot be downloaded from here. To fix it, either\n"
            "  1. connect to the internet and run this cell again, or\n"
            "  2. on a machine with internet, run `python -m helpers fetch` and copy its cache "
            f"folders here (course cache: {cache_dir()}), or\n"
            "  3. set TL_COURSE_MIRROR to a course mirror folder (datasets/, weights/) and restart "
            "the kernel."
        )
        if any(need.what.endswith("weights") for need in offline) and random_weights_allowed():
            print(
                "TL_COURSE_ALLOW_RANDOM_WEIGHTS is set: models without weights will run with "
                "RANDOM weights, and their accuracy will mean nothing."
            )
