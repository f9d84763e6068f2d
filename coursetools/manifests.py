"""Write ``helpers/manifests/<dataset>.sha256``: the SHA-256 of every file of each course dataset.

    python -m coursetools.manifests [--mirror /path/to/mirror]

Computed from the offline mirror's copy (``datasets/FOLDER/``, unpacked from the published
archive, itself checked against the mirror's own ``MANIFEST.sha256``), sorted by path, in
``sha256sum`` format (paths relative to the dataset folder). ``helpers.data.verify_dataset``
checks every file of a copy against it, so a truncated or altered photo is found and repaired.
Run it again only if a dataset's published archive changes.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from helpers.config import env_text

from .paths import REPO_ROOT

MANIFESTS = REPO_ROOT / "helpers" / "manifests"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_lines(folder: Path) -> list[str]:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return [f"{sha256_of(p)}  {p.relative_to(folder).as_posix()}" for p in files]


def main(argv: list[str] | None = None) -> int:
    from helpers.data import DATASETS

    parser = argparse.ArgumentParser(
        prog="python -m coursetools.manifests", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--mirror", type=Path, default=env_text("TL_COURSE_MIRROR"), help="the offline mirror (default: TL_COURSE_MIRROR)"
    )
    args = parser.parse_args(argv)
    if not args.mirror:
        parser.error("no mirror: pass --mirror or set TL_COURSE_MIRROR")
    MANIFESTS.mkdir(exist_ok=True)
    for name, spec in DATASETS.items():
        folder = Path(args.mirror) / "datasets" / spec.folder
        if not folder.is_dir():
            print(f"{name}: not in {args.mirror}, manifest left as it is", file=sys.stderr)
            continue
        lines = manifest_lines(folder)
        (MANIFESTS / f"{name}.sha256").write_text("\n".join(lines) + "\n")
        print(f"{name}: {len(lines)} files -> {MANIFESTS / f'{name}.sha256'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
