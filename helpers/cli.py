"""Command line: ``python -m helpers {fetch,report}``.

- ``fetch [NAME ...]``: download (or take from the mirror) datasets and pretrained weights.
- ``report``: versions, devices, cache locations and what is cached.

Deprecated, kept for one term: ``course`` (now ``python -m coursetools course``, ``make course``)
and ``grade`` (now ``python -m autograder``, ``make grade``). They live in the repository, not in
this package: from an installed copy of ``helpers`` they say where to run them.
"""

from __future__ import annotations

import argparse
import sys

__all__: list[str] = []  # nothing here is for lessons (see the package docstring)


def _fetch(names: list[str]) -> int:
    from .data import DATASETS, fetch_dataset
    from .errors import CourseError
    from .models import BACKBONES, load_keras_backbone, load_torch_backbone

    names = names or list(DATASETS) + list(BACKBONES)
    failures = 0
    for name in names:
        try:
            if name in DATASETS:
                print(f"{name}: {fetch_dataset(name)}")
            elif name in BACKBONES:
                spec = BACKBONES[name]
                loader = load_torch_backbone if spec.framework == "torch" else load_keras_backbone
                model = loader(name, allow_random=False)
                print(f"{name}: {model.weights_source} weights ready")
            else:
                print(f"{name}: unknown; choose from {', '.join(list(DATASETS) + list(BACKBONES))}")
                failures += 1
        except CourseError as err:
            print(f"{name}: NOT AVAILABLE. {err}")
            failures += 1
    return 1 if failures else 0


def _moved(command: str, module: str, argv: list[str]) -> int:
    """Run a command that moved out of helpers, with a deprecation message naming its new home."""
    import importlib

    print(
        f"`python -m helpers {command}` is deprecated and will be removed next term: "
        f"use `python -m {module}{' course' if module == 'coursetools' else ''}` (or `make {command}`).",
        file=sys.stderr,
    )
    try:
        cli = importlib.import_module(f"{module}.__main__")
    except ImportError:
        print(f"{module} is part of the course repository, not of the installed helpers: run it from a clone.", file=sys.stderr)
        return 2
    return cli.main(([command] if module == "coursetools" else []) + argv)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    fetch = sub.add_parser("fetch", help="download datasets and pretrained weights")
    fetch.add_argument("names", nargs="*", help="datasets or backbones (default: all)")
    sub.add_parser("report", help="print versions, devices and caches")
    sub.add_parser("course", help="deprecated: python -m coursetools course", add_help=False)
    sub.add_parser("grade", help="deprecated: python -m autograder", add_help=False)
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in ("course", "grade"):
        return _moved(argv[0], "coursetools" if argv[0] == "course" else "autograder", argv[1:])
    args = parser.parse_args(argv)
    if args.command == "fetch":
        return _fetch(args.names)
    if args.command == "report":
        from .runtime import environment_report

        environment_report(("torch", "keras"))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
