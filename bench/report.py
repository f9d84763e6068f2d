"""The benchmark's results as Markdown: one block per machine, and the README block.

Everything shown is read from ``bench/results/*.json``; a section a machine has no figures for
says "not measured" with the reason.
"""

from __future__ import annotations

import json
from pathlib import Path

from helpers.costs import PACKAGED_COSTS, bundle_costs, format_duration, format_timing

START, END = "<!-- bench:start -->", "<!-- bench:end -->"
LABELS = {
    "a_cached_head": "(a) cached features + linear head",
    "b_fine_tune": "(b) fine-tuning the whole network",
    "c_random_weights": "(c) the same network and recipe from random weights",
    "d_tutorial_frozen": "(d) tutorial loop: frozen backbone re-run every epoch, stopped when it matches (a): the tutorial's best case",
    "e_tutorial_published": "(e) the tutorial's fine-tuning recipe as published: every layer, 25 epochs, StepLR",
}


def _num(value, digits=1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


_time = format_duration  # the course's one duration format (helpers.costs)


def _spread(stats: dict | None, fmt=_time) -> str:
    """``median (min-max, N runs)``."""
    if not stats or stats.get("median") is None:
        return "not measured"
    runs = stats.get("runs")
    if runs == 1:
        return f"{fmt(stats['median'])} (1 run)"
    return f"{fmt(stats['median'])} ({fmt(stats['min'])}-{fmt(stats['max'])}, {runs} runs)"


def _loads(entries) -> str:
    values = [v for entry in entries for pair in entry for v in (pair or []) if v is not None]
    return f"{min(values):.1f}-{max(values):.1f}" if values else "-"


def _run_loads(runs: list[dict]) -> str:
    """ "; load 1 min 3.3-9.3" over the runs of a section (its start and end loads)."""
    values = []
    for run in runs or []:
        values += [run.get("load_1m_start"), run.get("load_1m_end"), *(run.get("load_1m") or [])]
    values = [v for v in values if v is not None]
    return f"; load 1 min {min(values):.1f}-{max(values):.1f}" if values else ""


def _goal(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _mark(stamp: dict) -> str:
    smoke = " SMOKE RUN (tiny settings, not a measurement)" if stamp.get("smoke") else ""
    return f"measured {stamp.get('measured_at', '?')[:16]}{smoke}"


LESSON_MODES = {
    "quick": "quick mode",
    "cpu": "cpu mode (a learner's run without a GPU)",
    "full": "full mode (a learner's run with a GPU)",
}


def lessons_table(data: dict) -> list[str]:
    lessons = data.get("lessons", {})
    missing = data.get("lessons_not_measured", {})
    names = sorted(set(lessons) | set(missing))
    if not names:
        return ["Lessons: not measured."]
    modes = [m for m in LESSON_MODES if any(m in lessons.get(n, {}) or m in missing.get(n, {}) for n in names)]
    lines = [
        f"| lesson | {' | '.join(LESSON_MODES[m] for m in modes)} | kernel peak memory ({' / '.join(modes)}) | load 1 min | weights |",
        "| --- " * (len(modes) + 4) + "|",
    ]
    totals = {m: 0.0 for m in modes}
    for name in names:
        cells, memory, loads, weights = [], [], [], set()
        for run_mode in modes:
            entry = lessons.get(name, {}).get(run_mode)
            if entry and "median_s" in entry:
                note = f" ({entry['note']})" if entry.get("note") else ""
                cells.append(format_timing(entry) + note)  # what the lesson's own cost cell prints
                memory.append(f"{entry['peak_rss_mb'] / 1024:.1f} GB" if entry.get("peak_rss_mb") else "-")
                loads.append(entry.get("load_1m", []))
                weights.update(entry.get("weights_source", []))
                if totals[run_mode] is not None:
                    totals[run_mode] += entry["median_s"]
            else:
                reason = missing.get(name, {}).get(run_mode, "not run (not selected with --lessons / --modes)")
                cells.append(f"not measured: {reason}")
                memory.append("-")
                totals[run_mode] = None
        weights.discard("None")
        shown = ", ".join(sorted(weights)) or "-"
        if "random" in weights:
            shown += " (ImageNet weights not available offline; same compute)"
        lines.append(f"| `{name}` | {' | '.join(cells)} | {' / '.join(memory)} | {_loads(loads)} | {shown} |")
    summed = [f"{m}: {format_duration(t)}" for m, t in totals.items() if t is not None]
    if summed:
        lines += ["", "Whole course, sum of the lessons' medians (modes with every lesson measured): " + "; ".join(summed) + "."]
    return lines


def transfer_table(proof: dict | None) -> list[str]:
    if not proof:
        return ["Transfer proof: not measured."]
    s = proof["settings"]
    lines = [
        f"Transfer proof ({_mark(proof)}{_run_loads(proof.get('per_run'))}): {proof['dataset']}; {proof['backbone']}; 224 px; "
        f"(b)/(c) {s['fine_tune_epochs']} epoch(s); (d) stops at the first epoch with validation accuracy >= "
        f"{s['target_accuracy']} (at most {s['tutorial_max_epochs']} epochs).",
        "",
        "| method | validation accuracy | wall time |",
        "| --- | --- | --- |",
    ]
    for key, label in LABELS.items():
        method = proof["methods"].get(key)
        if not method or not method["seconds"].get("runs"):
            continue
        wall = _spread(method["seconds"])
        if key == "a_cached_head":
            wall += f"; again with the features cached: {_spread(method['warm_seconds'])}"
            if method.get("plain_seconds"):
                wall += (
                    f"; without the inference tuning (BatchNorm folding, channels-last): "
                    f"{_spread(method['plain_seconds'])}, accuracy "
                    f"{_spread(method['plain_accuracy'], lambda v: f'{v:.3f}')}"
                )
        if key == "d_tutorial_frozen":
            wall += f"; epochs {_spread(method['epochs'], lambda v: f'{v:.0f}')}"
            if not method.get("reached_target_every_run"):
                wall += f" (did NOT reach {s['target_accuracy']} in every run: a lower bound)"
        accuracy = _spread(method["accuracy"], lambda v: f"{v:.3f}")
        if key == "e_tutorial_published":
            wall += f"; {s.get('published_epochs', 25)} epochs"
            accuracy += (
                f" at the last epoch; best epoch {_spread(method['best_accuracy'], lambda v: f'{v:.3f}')} "
                "(the tutorial keeps that one, chosen on these same photos)"
            )
        lines.append(f"| {label} | {accuracy} | {wall} |")
    goals = proof["goals"]
    bound = " (lower bound)" if proof.get("speedup_is_lower_bound") else ""
    lines += [
        "",
        f"(d) / (a), measured side by side in each run: {_spread(proof['speedup_d_over_a'], lambda v: f'{v:.1f}x')}{bound}; "
        f"with the features already cached: {_spread(proof['speedup_d_over_a_warm'], lambda v: f'{v:.0f}x')}"
        + (
            f"; (a) without the inference tuning: {_spread(proof['speedup_d_over_a_plain'], lambda v: f'{v:.1f}x')}"
            if proof.get("speedup_d_over_a_plain")
            else ""
        )
        + ". "
        f"Goals: (a) accuracy >= 0.95 {_goal(goals['a_accuracy_at_least_0.95'])}, (a) <= 60 s "
        f"{_goal(goals['a_seconds_at_most_60'])}, >= 10x faster than (d) {_goal(goals['speedup_at_least_10x'])}.",
    ]
    if proof.get("speedup_e_over_a", {}).get("runs"):
        key = "published_speedup_at_least_50x_at_equal_or_better_accuracy"
        lines += [
            "",
            f"(e) / (a), the published recipe against the course's pipeline, side by side in each run: "
            f"{_spread(proof['speedup_e_over_a'], lambda v: f'{v:.0f}x')} less wall time; (a)'s accuracy equal "
            f"or better than (e)'s last epoch in {sum(r.get('a_at_least_e_accuracy', False) for r in proof.get('per_run', []))} "
            f"of {proof['speedup_e_over_a']['runs']} runs. Goal: >= 50x in every run at equal or better accuracy "
            f"{_goal(goals.get(key, False))}.",
        ]
    return lines


def vgg16_lines(race: dict | None) -> list[str]:
    if not race:
        return ["VGG16 cached features vs frozen forward: not measured."]
    s = race["settings"]
    weights = ", ".join(race["weights_source"])
    note = " (VGG16 ImageNet weights are not available offline: random weights, identical compute)" if "random" in weights else ""
    return [
        f"VGG16 lesson, head training for {s['epochs']} epochs ({_mark(race)}{_run_loads(race.get('per_run'))}; {s['train_photos']} + {s['val_photos']} "
        f"photos at {s['image_size']} px, {weights} weights{note}): through the frozen base every epoch "
        f"{_spread(race['frozen_forward_s'])}; cached features {_spread(race['cached_total_s'])} (extraction "
        f"{_spread(race['cached_extract_s'])} + head {_spread(race['cached_head_s'])}). Speedup "
        f"{_spread(race['speedup'], lambda v: f'{v:.1f}x')}, goal >= 8x {_goal(race['goals']['speedup_at_least_8x'])}; "
        f"head training alone {_spread(race['speedup_head_only'], lambda v: f'{v:.0f}x')}."
    ]


def grading_lines(grading: dict | None) -> list[str]:
    if not grading:
        return ["Autograding: not measured."]
    if grading.get("class_students"):
        klass = (
            f"a class of {grading['class_students']}: {_spread(grading['class_s'])} "
            f"({_spread(grading['class_per_student_s'])} per student)"
        )
    else:
        klass = (
            f"a class of {grading.get('class_size', '?')}: not graded (--class-runs 0); projected "
            f"{_time(grading.get('class_projection_s'))} = class size x the per-student median (not a measurement)"
        )
    per_lesson = ", ".join(f"`{k}` {_num(v.get('median'))} s" for k, v in grading["per_notebook_s"].items())
    return [
        f"Autograding ({_mark(grading)}{_run_loads(grading.get('per_run'))}; {len(grading['lessons'])} notebooks per student, quick/grading mode, "
        f"full marks: {grading['all_full_marks']}"
        + (
            f"; {'/'.join(map(str, grading['jobs']))} notebooks graded at once, so the per-notebook times overlap"
            if grading.get("jobs")
            else ""
        )
        + f"): one complete student {_spread(grading['per_student_s'])} ({per_lesson}); {klass}."
        + _sandbox_overhead(grading.get("sandbox_overhead"))
        + _grading_goals(grading)
    ]


CLASS_GOAL_S = 15 * 60  # #19: a class of 30 graded in the sandbox within 15 min on the 2-core CPU
SANDBOX_GOAL_RATIO = 1.2


def _grading_goals(grading: dict) -> str:
    """The grading goals, judged on measurements only (a projection never meets a goal)."""
    size = grading.get("class_size", 30)
    if grading.get("class_students") and grading.get("class_s", {}).get("max") is not None:
        klass = f"a class of {size} <= {CLASS_GOAL_S // 60} min in every run {_goal(grading['class_s']['max'] <= CLASS_GOAL_S)}"
    else:
        klass = f"a class of {size} <= {CLASS_GOAL_S // 60} min not shown (no class was graded)"
    ratio = (grading.get("sandbox_overhead") or {}).get("ratio", {}).get("median")
    sandbox = (
        "sandbox overhead not measured"
        if ratio is None
        else f"sandbox <= {SANDBOX_GOAL_RATIO}x (median of pairs) {_goal(ratio <= SANDBOX_GOAL_RATIO)}"
    )
    return f" Goals: {klass}; {sandbox}."


def _sandbox_overhead(overhead: dict | None) -> str:
    if not overhead or not overhead.get("without_s", {}).get("runs"):
        return ""
    return (
        f" Sandbox overhead, side by side: one student {_spread(overhead['with_s'])} in the sandbox, "
        f"{_spread(overhead['without_s'])} without; ratio {_num(overhead['ratio'].get('median'), 2)}x "
        f"(min {_num(overhead['ratio'].get('min'), 2)}, max {_num(overhead['ratio'].get('max'), 2)})."
    )


def install_lines(install: dict | None) -> list[str]:
    if not install:
        return ["Install: not measured."]
    cache = install["pip_cache"]
    return [
        f"Install ({_mark(install)}{_run_loads(install.get('per_run'))}): `{install['command']}` at commit {install['commit'][:10]}: "
        f"{_spread(install['seconds'])}; pip download cache {cache['state']} ({cache['mb']} MB at {cache['path']})"
        + (", so this is install time, not download time" if cache["state"] == "warm" else "")
        + (f"; pip's package sources: {install['pip_sources']}" if install.get("pip_sources") else "")
        + "."
    ]


def book_lines(book: dict | None) -> list[str]:
    if not book:
        return ["Website build: not measured."]
    failed = f"; {len(book['failures'])} failed: {book['failures'][0]}" if book.get("failures") else ""
    return [
        f"Website build ({_mark(book)}{_run_loads(book.get('per_run'))}): `{book['command']}`: "
        f"{_spread(book['seconds'])} (executing the lessons {_spread(book['executing_s'])}, jupyter-book "
        f"{_spread(book['jupyter_book_s'])}){failed}. Goal <= 10 min {_goal(book['goal_at_most_600_s'])}."
    ]


def render_machine(data: dict) -> str:
    machine, about = data.get("machine", {}), data.get("about", {})
    lesson_stamp = max((e.get("measured_at", "") for m in data.get("lessons", {}).values() for e in m.values()), default="")
    lines = [
        f"#### {machine.get('description', '?')}",
        "",
        f"GPU: {machine['gpu']}."
        if machine.get("gpu")
        else "GPU: not measured (no GPU on this machine; the lessons' GPU cost needs a run of `make bench` on one).",
        f"Every figure is a median with (min-max, runs). Load: {about.get('load_note', '')}.",
        "",
        f"Lessons: wall time of a fresh run (new kernel, empty feature cache; data and weights from "
        f"{'the offline mirror' if 'mirror' in about and not about['mirror'].startswith('(none') else 'local caches'}), "
        f"last measured {lesson_stamp[:16] or '-'}.",
        "",
        *lessons_table(data),
        "",
        *transfer_table(data.get("transfer_proof")),
        "",
        *vgg16_lines(data.get("vgg16_cache_speedup")),
        "",
        *grading_lines(data.get("grading")),
        "",
        *install_lines(data.get("install")),
        "",
        *book_lines(data.get("book")),
    ]
    return "\n".join(lines)


def render_all(results_dir: Path) -> str:
    blocks = []
    for path in sorted(results_dir.glob("*.json")) if results_dir.is_dir() else []:
        try:
            blocks.append(render_machine(json.loads(path.read_text())))
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            blocks.append(f"`{path.name}` could not be read ({type(err).__name__}: {err}): run `make bench` again.")
    body = "\n\n".join(blocks) or "No benchmark results yet: run `make bench`."
    return f"{START}\n<!-- written by `make bench` from bench/results/*.json; edits here are overwritten -->\n{body}\n{END}"


def update_readme(readme: Path, results_dir: Path) -> None:
    """Replace the block between the markers; a README without them is left alone (with a note)."""
    text = readme.read_text()
    if START not in text or END not in text or text.index(START) > text.index(END):
        print(f"[bench] {readme} has no {START} ... {END} block: add one where the table should go.")
        return
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    readme.write_text(before + render_all(results_dir) + after)


def write_measured_costs(results_dir: Path, target: Path = PACKAGED_COSTS) -> None:
    """Bundle every machine's lesson costs into ``helpers/measured_costs.json`` (package data:
    the lessons' cost cells read it wherever ``helpers`` is installed)."""
    target.write_text(json.dumps(bundle_costs(results_dir), indent=1) + "\n")
