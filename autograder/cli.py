"""``python -m autograder SUBMISSIONS [--grading-dir DIR] [--lessons ...] [--pattern RE] [--jobs N]``.

What ``make grade SUBMISSIONS=dir`` runs: grades.csv and per-student feedback (see docs/grading.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    import warnings

    from coursetools.runner import quiet_frameworks

    from .grading import Status, grade

    parser = argparse.ArgumentParser(
        prog="python -m autograder", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("submissions", help="folder of submissions (nbgrader layout or LMS downloads)")
    parser.add_argument("--grading-dir", default="grading", help="gradebook, feedback, grades.csv (default: grading/)")
    parser.add_argument("--lessons", nargs="*", help="assignments to grade (default: all lessons)")
    parser.add_argument("--pattern", help="regex with named groups student and assignment, matched on file paths")
    parser.add_argument(
        "--jobs",
        type=int,
        help="notebooks graded at once (default: TL_COURSE_GRADING_JOBS, else one per core, at most 4, fewer if memory is short)",
    )
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", module="nbgrader")  # SQLAlchemy chatter from nbgrader's gradebook
    quiet_frameworks()  # the grading kernels inherit it, as under `make grade`
    try:
        run = grade(Path(args.submissions), Path(args.grading_dir), args.lessons or None, args.pattern, jobs=args.jobs)
    except (FileNotFoundError, RuntimeError, ValueError) as err:
        print(f"grade: {err}", file=sys.stderr)
        return 2
    failed = [o for o in run.outcomes if not o.status.counts_as_graded]
    if failed or run.unmatched:
        print(f"\n{len(failed)} submission(s) not graded and {len(run.unmatched)} file(s) not used: see the lines above")
    # a lesson left ungraded for want of its weights is the instructor's to fix: a script must notice
    return 1 if any(o.status == Status.HELD for o in run.outcomes) else 0
