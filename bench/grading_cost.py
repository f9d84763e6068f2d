"""What autograding costs: seconds per complete student (every lesson's notebook) and for a class.

It uses the course's own grading workflow (``make grade``: ``autograder.grading``), whose
``benchmark_grading`` grades copies of the instructor solutions (complete, correct
submissions: every test cell runs) in a fresh temporary gradebook. The per-student figure is
one student graded alone, ``runs`` times; the class figure is one grading of ``students``
students (it also gives seconds per student at class scale). Both use ``make grade``'s default
number of notebooks graded at once (``jobs``: one per core), so per-notebook times overlap.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from .measure import environment, load_1m, summarize


def _benchmark_grading():
    try:
        from autograder.grading import benchmark_grading
    except ImportError as err:
        raise RuntimeError(
            f"autograder.grading is missing or broken ({err}): the grading section needs the "
            "course's `make grade` workflow; update your checkout."
        ) from err
    return benchmark_grading


def run_grading_cost(
    runs: int = 3,
    students: int = 30,
    smoke: bool = False,
    tmp_root: Path | None = None,
    lessons: list[str] | None = None,
    class_runs: int = 1,
) -> dict:
    benchmark_grading = _benchmark_grading()
    # nbgrader creates gradebooks with alembic, which must be on PATH (it is in the venv's bin/).
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    if smoke:  # the quiz alone, one student: checks the code path, not the figure
        lessons, runs, students = lessons or ["05_quiz"], 1, 2
    workdir = Path(tempfile.mkdtemp(prefix="tl-bench-grading-", dir=tmp_root))
    one, unsandboxed = [], []
    for index in range(runs):
        print(f"[bench] grading one complete student, run {index + 1}/{runs} ...", flush=True)
        start_load = load_1m()
        result = benchmark_grading(1, lessons, workdir)
        result["load_1m"] = [start_load, load_1m()]
        print(f"[bench]   {result['seconds']} s {result['per_notebook_s']} full marks: {result['all_full_marks']}", flush=True)
        one.append(result)
        # side by side: the same student without the sandbox (autograder/sandbox.py), for its overhead
        print(f"[bench] the same without the sandbox, run {index + 1}/{runs} ...", flush=True)
        unsandboxed.append(_without_sandbox(benchmark_grading, lessons, workdir))
        print(f"[bench]   {unsandboxed[-1]['seconds']} s", flush=True)
    whole = []
    for index in range(class_runs if students > 1 else 0):
        print(f"[bench] grading a class of {students}, run {index + 1}/{class_runs} ...", flush=True)
        start_load = load_1m()
        result = benchmark_grading(students, lessons, workdir)
        result["load_1m"] = [start_load, load_1m()]
        print(f"[bench]   {result['seconds']} s ({result['per_student_s']} s per student)", flush=True)
        whole.append(result)
    per_student = summarize([r["seconds"] for r in one], 1)
    lessons_graded = one[0]["lessons"] if one else lessons
    per_notebook = {lesson: summarize([s for r in one for s in r["per_notebook_s"].get(lesson, [])]) for lesson in lessons_graded}
    return {
        "lessons": lessons_graded,
        "workflow": "autograder.grading.benchmark_grading (the `make grade` workflow): copies of solutions/ graded in a fresh gradebook",
        "per_student_s": per_student,
        "per_notebook_s": per_notebook,
        "class_size": students,
        "class_students": students if whole else None,
        "class_note": None
        if whole
        else f"a class of {students} was not graded (--class-runs 0); "
        "the projection is the per-student median times the class size, not a measurement",
        "class_projection_s": round(per_student["median"] * students, 1) if per_student["median"] is not None else None,
        "class_s": summarize([r["seconds"] for r in whole], 1),
        "class_per_student_s": summarize([r["per_student_s"] for r in whole], 1),
        "all_full_marks": all(r["all_full_marks"] for r in one + whole),
        "sandbox_overhead": {
            "with_s": per_student,
            "without_s": summarize([r["seconds"] for r in unsandboxed], 1),
            "ratio": summarize([a["seconds"] / b["seconds"] for a, b in zip(one, unsandboxed) if b["seconds"]], 2),
            "load_1m": [r["load_1m"] for r in unsandboxed],
            "all_full_marks": all(r["all_full_marks"] for r in one + unsandboxed),
        },
        "jobs": sorted({r["jobs"] for r in one + whole}),
        "per_run": [
            {k: r[k] for k in ("students", "jobs", "seconds", "per_notebook_s", "load_1m", "all_full_marks")} for r in one + whole
        ],
    }


def _without_sandbox(benchmark_grading, lessons, workdir) -> dict:
    with environment(TL_COURSE_SANDBOX="off"):  # set for the run, then restored as it was
        start_load = load_1m()
        result = benchmark_grading(1, lessons, workdir)
        result["load_1m"] = [start_load, load_1m()]
        return result
