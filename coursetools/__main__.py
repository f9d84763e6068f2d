"""``python -m coursetools course [LESSON ...] [--mode quick|default|full]``: what ``make course`` runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .runner import MODES, quiet_frameworks


def course(args) -> int:
    from .course import NEXT_STEP, choose_mode, run_course, summary_table
    from .paths import lesson_names

    known = lesson_names(source=args.source)
    unknown = [name for name in args.lessons if name not in known]
    if unknown:
        print(f"course: no lesson {', '.join(unknown)} in {args.source}/: the lessons are {', '.join(known)}", file=sys.stderr)
        return 2
    try:
        mode, why = choose_mode(args.mode)
    except ValueError as err:
        print(f"course: {err}", file=sys.stderr)
        return 2
    print(f"[course] {mode} mode: {why}", flush=True)
    quiet_frameworks()
    runs = run_course(mode, source=args.source, names=args.lessons or None)
    table = summary_table(runs, mode, why)
    print()
    print(table)
    out = Path(args.summary)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table + "\n")
    print(f"\n(summary saved to {out})")
    failed = [run.lesson for run in runs if not run.ok]
    if failed:
        print(f"{len(failed)} lesson(s) failed ({', '.join(failed)}): open them with `make lab` to see the error in place.")
    else:
        print(NEXT_STEP)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursetools", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("course", help="execute every lesson and print a summary")
    run.add_argument("lessons", nargs="*", help="lesson folder names (default: all)")
    run.add_argument("--mode", choices=MODES, help="default: quick without a GPU, default with one")
    run.add_argument("--source", default="solutions", help="solutions (default) or lessons")
    run.add_argument("--summary", default="_build/course/summary.md")
    args = parser.parse_args(argv)
    return course(args)


if __name__ == "__main__":
    sys.exit(main())
