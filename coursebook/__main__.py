"""``python -m coursebook [--output DIR] [--no-cache] [--jupyterhub-url URL] [--executed DIR]``: build the course website (``make book``)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .build import BookBuildError, build
from .notebooks import LessonExecutionError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursebook", description=__doc__)
    parser.add_argument("--output", type=Path, default=None, help="folder that receives _build/ (default: the repository root)")
    parser.add_argument("--no-cache", action="store_true", help="execute every lesson again")
    parser.add_argument(
        "--jupyterhub-url",
        default=os.environ.get("JUPYTERHUB_URL") or None,
        help="your hub's address for the JupyterHub launch button (default: $JUPYTERHUB_URL, "
        "else the placeholder in _config.yml)",
    )
    parser.add_argument(
        "--executed",
        type=Path,
        default=None,
        help="publish the lesson runs kept in this folder (DIR/lessons/NAME/NAME.ipynb and NAME.run.json, "
        "as the tests make them) instead of executing the lessons",
    )
    args = parser.parse_args(argv)
    try:
        build(args.output, use_cache=False if args.no_cache else None, jupyterhub_url=args.jupyterhub_url, executed=args.executed)
    except (BookBuildError, LessonExecutionError) as err:
        print(f"[book] FAILED: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
