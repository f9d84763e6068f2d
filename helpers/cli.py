"""Command line: ``python -m helpers {fetch,report,course}``.

- ``fetch [NAME ...]``: download (or take from the mirror) datasets and pretrained weights.
- ``report``: versions, devices, cache locations and what is cached.
- ``course``: execute every lesson headless and print a summary table.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


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


def _course(args) -> int:
    from .course import quiet_frameworks, run_course, summary_table

    quiet_frameworks()
    runs = run_course(source=args.source, names=args.lessons or None)
    table = summary_table(runs)
    print()
    print(table)
    out = Path(args.summary)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table + "\n")
    print(f"\n(summary saved to {out})")
    return 0 if all(run.ok for run in runs) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    fetch = sub.add_parser("fetch", help="download datasets and pretrained weights")
    fetch.add_argument("names", nargs="*", help="datasets or backbones (default: all)")
    sub.add_parser("report", help="print versions, devices and caches")
    course = sub.add_parser("course", help="execute every lesson and print a summary")
    course.add_argument("lessons", nargs="*", help="lesson folder names (default: all)")
    course.add_argument("--source", default="solutions", help="solutions (default) or lessons")
    course.add_argument("--summary", default="_build/course/summary.md")
    args = parser.parse_args(argv)
    if args.command == "fetch":
        return _fetch(args.names)
    if args.command == "report":
        from .runtime import environment_report

        environment_report(("torch", "keras"))
        return 0
    return _course(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
