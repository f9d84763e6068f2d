"""``make bench``: measure the course on this machine; write ``bench/results/<machine>.json``, its
Markdown table (``<machine>.md``) and the README's benchmark block.

    python -m bench.run_bench                        # everything, 3 runs per figure
    python -m bench.run_bench --sections transfer vgg16 --runs 3
    python -m bench.run_bench --sections lessons --lessons 01_concepts --modes quick full
    python -m bench.run_bench --smoke --out /tmp/bench   # tiny settings: checks that it works

Sections: lessons, transfer, vgg16, grading, install, book. A run updates only the sections it
measures: the results file keeps the others (each with when and how it was measured), so a
slow section can be measured separately. This is not a timed test; nothing here fails because
a figure is slow. Figures are medians of ``--runs`` runs with min and max; ratios are computed
within each run (the two contenders run side by side) and then summarised.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from . import report
from .machine import describe_machine, machine_slug
from .lesson_costs import merge_entry
from .measure import load_1m
from helpers.config import env_flag, env_text
from coursetools.paths import REPO_ROOT

DEFAULT_OUT = REPO_ROOT / "bench" / "results"
SECTIONS = ("lessons", "transfer", "vgg16", "grading", "install", "book")
MEASURED_KEYS = ("lessons", "lessons_not_measured", "transfer_proof", "vgg16_cache_speedup", "grading", "install", "book")
FULL_MODE_TOO_SLOW = {
    # Skipped by default on a CPU-only machine (recorded with this reason, never given a time).
    "02_vgg16_feature_extraction": "not run on a CPU-only machine by default: full mode trains on all 2,000 training "
    "photos at 160 px (run it on a GPU, or pass --full-on-cpu)",
    "03_resnet50_fine_tuning": "not run on a CPU-only machine by default: full mode fine-tunes ResNet50 on all 2,000 "
    "training photos (run it on a GPU, or pass --full-on-cpu)",
}


def _lesson_names() -> list[str]:
    from coursetools.paths import lesson_names

    return lesson_names(REPO_ROOT)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run_bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median, min, max); default 3")
    parser.add_argument("--lessons", nargs="+", help="lessons to time (default: all)")
    parser.add_argument(
        "--modes",
        nargs="+",
        choices=("quick", "cpu", "full"),
        help="lesson run modes (default: quick, full, and cpu on a machine without a GPU, where cpu is what a learner's run is)",
    )
    parser.add_argument(
        "--full-on-cpu",
        action="store_true",
        help="also run 02/03 in full mode on a CPU-only machine (about half an hour per run on "
        "2 cores: the full-mode column of bench/results/<machine>.md has the measured cost)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="folder for <machine>.json and <machine>.md (default bench/results; "
        "only then is helpers/measured_costs.json rewritten)",
    )
    parser.add_argument(
        "--readme",
        type=Path,
        default=REPO_ROOT / "README.md",
        help="README whose benchmark block is rewritten (default README.md); --no-readme to skip",
    )
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="measure nothing: rewrite <machine>.md and the README block from the results files",
    )
    parser.add_argument(
        "--merge-from",
        type=Path,
        nargs="+",
        default=[],
        help="results files (same machine, e.g. written with another --out) whose measured sections are copied in "
        "first (lessons: lesson by lesson and mode by mode; runs of the same code, code_sha256, pool; "
        "other sections whole)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny settings everywhere (1 run, small data, 01_concepts quick only): checks the harness, not the course",
    )
    parser.add_argument(
        "--allow-random-weights",
        action="store_true",
        help="let lessons whose ImageNet weights cannot be had run with random weights (offline machines); flagged in the table",
    )
    parser.add_argument(
        "--install-runs", type=int, default=1, help="fresh `make setup` runs (default 1: each takes minutes and GBs of disk)"
    )
    parser.add_argument("--students", type=int, default=30, help="class size for the grading figure (default 30)")
    parser.add_argument("--class-runs", type=int, default=1, help="gradings of the whole class (default 1; 0: per-student only)")
    parser.add_argument("--transfer-epochs", type=int, default=3, help="fine-tuning epochs of (b) and (c)")
    parser.add_argument(
        "--tutorial-max-epochs",
        type=int,
        default=15,
        help="epochs the tutorial-style loop (d) may take to reach the target accuracy",
    )
    parser.add_argument("--target-accuracy", type=float, default=0.95)
    parser.add_argument(
        "--published-epochs", type=int, default=25, help="epochs of (e), the tutorial's fine-tuning recipe as published (25)"
    )
    parser.add_argument("--vgg16-image-size", type=int, default=160, help="VGG16 race: image size (the lesson's full mode: 160)")
    parser.add_argument("--vgg16-train-per-class", type=int, default=32, help="VGG16 race: training photos per class")
    parser.add_argument("--vgg16-val-per-class", type=int, default=8, help="VGG16 race: validation photos per class")
    return parser.parse_args(argv)


def load_results(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise SystemExit(f"{path} is not valid JSON ({err}): delete it or restore it from git, then run again.") from err


def save_results(path: Path, data: dict, sections: set[str] | None = None) -> None:
    """Write ``data`` atomically. With ``sections``, only those top-level keys are taken from
    ``data`` and the rest from the file as it is now (under a lock), so two benchmark runs
    measuring different sections at the same time never overwrite each other's figures."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        try:
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX)
        except ImportError:  # Windows: no concurrent runs there
            pass
        if sections is not None:
            current = load_results(path)
            for key in sections & data.keys():
                if key == "about":  # notes from several sections: merge them
                    current.setdefault("about", {}).update(data["about"])
                else:
                    current[key] = data[key]
            data = current
        partial = path.with_suffix(".json.partial")
        partial.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
        os.replace(partial, path)


def _stamp(args: argparse.Namespace) -> dict:
    return {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "runs": args.runs,
        "smoke": args.smoke,
        "load_1m_at_start": load_1m(),
        "cores": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from coursetools.runner import quiet_frameworks

    quiet_frameworks()  # TensorFlow's start-up noise, in this process and the kernels it starts
    if args.smoke:
        args.runs = 1
        args.lessons = args.lessons or ["01_concepts"]
        args.modes = ["quick"]
        args.students = 1
    machine = describe_machine()
    out_json = args.out / f"{machine_slug(machine)}.json"
    data = load_results(out_json)
    merged = set()
    for other in args.merge_from:
        found = load_results(other)
        if not found:
            raise SystemExit(f"--merge-from {other}: no such results file.")
        if found.get("machine", {}).get("description") != machine["description"]:
            raise SystemExit(
                f"--merge-from {other}: measured on another machine ({found.get('machine', {}).get('description')})."
            )
        for key in MEASURED_KEYS:
            if key not in found:
                continue
            if key in ("lessons", "lessons_not_measured"):  # lesson by lesson, mode by mode
                for name, by_mode in found[key].items():
                    here = data.setdefault(key, {}).setdefault(name, {})
                    for run_mode, entry in by_mode.items():  # runs of the same code pool, others replace
                        here[run_mode] = merge_entry(here.get(run_mode), entry) if key == "lessons" else entry
                    counterpart = "lessons_not_measured" if key == "lessons" else "lessons"
                    other = data.setdefault(counterpart, {}).get(name, {})
                    for run_mode in by_mode:  # measured there: no longer "not measured" here, and vice versa
                        other.pop(run_mode, None)
            else:
                data[key] = found[key]
            merged.add(key)
    data["machine"] = machine
    data.setdefault("about", {})
    data["about"].update(
        {
            "generated_by": "make bench (python -m bench.run_bench)",
            "load_note": "load_1m is the 1-minute load average at the start and end of each run; "
            "above the core count, other work shared the CPU and figures are slower than the machine can do",
        }
    )
    if not machine.get("gpu"):
        data["about"]["gpu"] = "not measured: no GPU on this machine"
    tmp_root = Path(tempfile.mkdtemp(prefix="tl-bench-"))

    keys = {
        "lessons": ["lessons", "lessons_not_measured"],
        "transfer": ["transfer_proof"],
        "vgg16": ["vgg16_cache_speedup"],
        "grading": ["grading"],
        "install": ["install"],
        "book": ["book"],
    }
    mine = (
        (set() if args.report_only else {"machine", "about"})
        | merged
        | {key for section in args.sections if not args.report_only for key in keys[section]}
    )

    def save() -> None:
        save_results(out_json, data, mine)

    if args.allow_random_weights:
        os.environ["TL_COURSE_ALLOW_RANDOM_WEIGHTS"] = "1"
    default_mirror = REPO_ROOT.parent / "shared" / "mirror"  # the course's offline mirror, as in tests/conftest.py
    if env_text("TL_COURSE_MIRROR") is None and default_mirror.is_dir():
        os.environ["TL_COURSE_MIRROR"] = str(default_mirror)
    data["about"]["mirror"] = env_text("TL_COURSE_MIRROR") or "(none: data and weights are downloaded once, before timing)"
    data["about"]["random_weights_allowed"] = env_flag("TL_COURSE_ALLOW_RANDOM_WEIGHTS")
    print(f"[bench] {machine['description']} -> {out_json}", flush=True)
    try:
        if not args.report_only:
            _run_sections(args, machine, data, tmp_root, save)
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    save()
    markdown = report.render_machine(load_results(out_json))
    (args.out / f"{machine_slug(machine)}.md").write_text(markdown + "\n")
    if not args.no_readme:
        report.update_readme(args.readme, args.out)
    if args.out.resolve() == DEFAULT_OUT.resolve():  # a trial run (--out elsewhere) leaves the shipped costs alone
        report.write_measured_costs(args.out)
    print(f"\n{markdown}\n\n[bench] wrote {out_json}", flush=True)
    return 0


def _run_sections(args, machine: dict, data: dict, tmp_root: Path, save) -> None:
    for section in args.sections:
        print(f"[bench] === {section} ===", flush=True)
        if section == "lessons":
            _lessons(args, machine, data, tmp_root, save)
        elif section == "transfer":
            from .transfer_proof import run_transfer_proof

            stamp = _stamp(args)

            def keep(summary: dict, stamp=stamp) -> None:
                data["transfer_proof"] = {**stamp, **summary}
                save()

            keep(
                run_transfer_proof(
                    runs=args.runs,
                    smoke=args.smoke,
                    fine_tune_epochs=args.transfer_epochs,
                    tutorial_max_epochs=args.tutorial_max_epochs,
                    target=args.target_accuracy,
                    tmp_root=tmp_root,
                    on_record=keep,
                    published_epochs=args.published_epochs,
                )
            )
        elif section == "vgg16":
            from .vgg16_cache_speedup import run_vgg16_speedup

            data["vgg16_cache_speedup"] = {
                **_stamp(args),
                **run_vgg16_speedup(
                    runs=args.runs,
                    smoke=args.smoke,
                    image_size=args.vgg16_image_size,
                    train_per_class=args.vgg16_train_per_class,
                    eval_per_class=args.vgg16_val_per_class,
                    tmp_root=tmp_root,
                ),
            }
        elif section == "grading":
            from .grading_cost import run_grading_cost

            data["grading"] = {
                **_stamp(args),
                **run_grading_cost(
                    runs=args.runs, students=args.students, smoke=args.smoke, tmp_root=tmp_root, class_runs=args.class_runs
                ),
            }
        elif section == "install":
            from .install_cost import run_install_cost

            data["install"] = {
                **_stamp(args),
                **run_install_cost(runs=1 if args.smoke else args.install_runs, smoke=args.smoke, tmp_root=tmp_root),
            }
        elif section == "book":
            from .book_cost import run_book_cost

            data["book"] = {**_stamp(args), **run_book_cost(runs=args.runs, tmp_root=tmp_root)}
        save()


def _lessons(args, machine: dict, data: dict, tmp_root: Path, save) -> None:
    from .lesson_costs import measure_lessons

    lessons = args.lessons or _lesson_names()
    modes = list(args.modes or (["quick", "full"] if machine.get("gpu") else ["quick", "cpu", "full"]))
    skipped = {}
    if "full" in modes and not machine.get("gpu") and not args.full_on_cpu:
        skipped = {name: FULL_MODE_TOO_SLOW[name] for name in lessons if name in FULL_MODE_TOO_SLOW}
    measured = data.setdefault("lessons", {})
    not_measured = data.setdefault("lessons_not_measured", {})

    def store(stats: dict) -> None:
        for name, by_mode in stats.items():
            for run_mode, entry in by_mode.items():
                entry = {**entry, "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
                if "median_s" in entry:  # what helpers.costs reads
                    measured.setdefault(name, {})[run_mode] = entry
                    not_measured.get(name, {}).pop(run_mode, None)
                else:  # every run failed: keep the reason, never a time
                    measured.get(name, {}).pop(run_mode, None)
                    not_measured.setdefault(name, {})[run_mode] = "failed: " + "; ".join(entry.get("failures", []))[:400]
        save()

    for name, reason in skipped.items():
        not_measured.setdefault(name, {})["full"] = reason
    plan = {run_mode: [n for n in lessons if not (run_mode == "full" and n in skipped)] for run_mode in modes}
    for run_mode, names in plan.items():
        if names:
            measure_lessons(
                names, [run_mode], args.runs, tmp_root=tmp_root, on_record=store, echo=lambda *a: print(*a, flush=True)
            )
    if not machine.get("gpu"):
        data["about"]["gpu_lessons"] = "not measured: no GPU on this machine"


if __name__ == "__main__":
    sys.exit(main())
