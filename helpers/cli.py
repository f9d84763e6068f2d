"""Command line: ``python -m helpers {fetch,report,course}``.

- ``fetch [NAME ...]``: download (or take from the mirror) datasets and pretrained weights.
- ``report``: versions, devices, cache locations and what is cached.
- ``course``: execute every lesson headless and print a summary table.
- ``grade SUBMISSIONS``: autograde a class's notebooks; grades.csv and feedback (autograder/grading.py).
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


def _grade(args) -> int:
    import warnings

    from autograder.grading import grade

    warnings.filterwarnings("ignore", module="nbgrader")  # SQLAlchemy chatter from nbgrader's gradebook
    try:
        run = grade(Path(args.submissions), Path(args.grading_dir), args.lessons or None, args.pattern,
                    jobs=args.jobs)
    except (FileNotFoundError, RuntimeError, ValueError) as err:
        print(f"grade: {err}", file=sys.stderr)
        return 2
    failed = [o for o in run.outcomes if o.status not in ("graded", "unchanged")]
    if failed or run.unmatched:
        print(f"\n{len(failed)} submission(s) not graded and {len(run.unmatched)} file(s) not used: see the lines above")
    return 0


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
    grading = sub.add_parser("grade", help="autograde students' notebooks: grades.csv and feedback")
    grading.add_argument("submissions", help="folder of submissions (nbgrader layout or LMS downloads)")
    grading.add_argument("--grading-dir", default="grading", help="gradebook, feedback, grades.csv (default: grading/)")
    grading.add_argument("--lessons", nargs="*", help="assignments to grade (default: all lessons)")
    grading.add_argument("--pattern", help="regex with named groups student and assignment, matched on file paths")
    grading.add_argument("--jobs", type=int, help="notebooks graded at once (default: TL_COURSE_GRADING_JOBS, "
                         "else one per core, at most 4, fewer if memory is short)")
    args = parser.parse_args(argv)
    if args.command == "fetch":
        return _fetch(args.names)
    if args.command == "grade":
        return _grade(args)
    if args.command == "report":
        from .runtime import environment_report

        environment_report(("torch", "keras"))
        return 0
    return _course(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
