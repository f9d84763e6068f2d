"""Turn what the helpers print for a learner at a notebook into what a reader of the website needs.

The lessons run for the site exactly as a learner runs them: ``helpers`` knows nothing of the
website. Their outputs describe the machine that runs them (its network, folders, cache, the
variables that chose the run mode); on a page those would describe the build machine. This
module rewrites those outputs of an executed notebook:

- the first cell's ``This run: <mode> mode ...`` sentence becomes "This page was executed in
  <mode> mode";
- ``show_downloads`` output becomes the list of what the lesson downloads and its size;
- the lines of ``environment_report`` that describe this machine (platform, folders, what is
  cached) are dropped, the versions and the device stay;
- a model's RANDOM-weights banner (and its warning) is removed and the model returned, for the
  page's one notice (``reader.make_reader_facing``);
- a "your turn" check of a cell the page leaves for the learner (``helpers.your_turn``: "not written
  yet", on stderr) becomes one plain line saying that the reference answer fills it in on this page.
"""

from __future__ import annotations

import ast
import re

from helpers.your_turn import NOT_WRITTEN_PROBLEM, WRONG_MARK

__all__ = [
    "RUN_LINE",
    "reader_run_line",
    "drop_machine_state",
    "reader_downloads",
    "random_weights_banners",
    "reader_your_turn",
]

RUN_LINE = re.compile(r"^This run: (\w+) mode\b.*$", re.M)
# environment_report's keys that describe the build machine; it prints "key  value" lines, "python" first.
MACHINE_STATE_KEYS = ("platform", "cache", "mirror", "torch_hub", "keras_home", "cached")
_REPORT_LINE = re.compile(r"^(\w+) {2,}\S")
# helpers.models prints the banner between two lines of 78 "!" and warns with the same message.
_BANNER = re.compile(r"!{78}\n(\S+) is running with RANDOM weights.*?\n!{78}\n", re.S)
_WARNING = re.compile(r"RandomWeightsWarning: (\S+) is running with RANDOM weights")
_DOWNLOADS_START = re.compile(r"^(What this lesson needs:|This lesson downloads nothing\.)", re.M)


def reader_run_line(text: str) -> str:
    """The run-mode sentence as a reader needs it: how the page was made, not how to change a run."""

    def reword(match: re.Match) -> str:
        mode = match.group(1)
        return f"This page was executed in {mode} mode" + (
            " (small data: its numbers are not the lesson's results)." if mode == "quick" else "."
        )

    return RUN_LINE.sub(reword, text)


def drop_machine_state(text: str) -> str:
    """``text`` without the machine lines of an environment report (only text that starts with one)."""
    lines = text.split("\n")
    if not lines or not lines[0].startswith("python "):
        return text
    kept = []
    for line in lines:
        key = _REPORT_LINE.match(line)
        if key and key.group(1) in MACHINE_STATE_KEYS:
            continue
        kept.append(line)
    return "\n".join(kept)


def _downloads_call(source: str) -> tuple[list[str], list[str]] | None:
    """The literal ``datasets`` and ``backbones`` of a ``show_downloads(...)`` call in a cell."""
    try:
        tree = ast.parse("\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))))
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "show_downloads":
            args = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords}
            return list(args.get("datasets", ())), list(args.get("backbones", ()))
    return None


def downloads_text(datasets: list[str], backbones: list[str]) -> str:
    """What a lesson downloads the first time it runs, with sizes: the same for every machine."""
    from helpers.data import ASSUMED_DOWNLOAD_MBPS
    from helpers.downloads import plan_downloads

    needs = plan_downloads(datasets, backbones)
    if not needs:
        return "This lesson downloads nothing.\n"
    lines = ["What this lesson downloads the first time it runs (then it is cached):"]
    lines += [f"  - {need.name}, {need.what}: {need.size_mb:.0f} MB" for need in needs]
    total_mb = sum(need.size_mb for need in needs)
    lines.append(
        f"In all {total_mb:.0f} MB, about {total_mb / ASSUMED_DOWNLOAD_MBPS:.0f} s at "
        f"{ASSUMED_DOWNLOAD_MBPS:.0f} MB/s. Run this cell in the notebook to see what your machine "
        "already has and what to do offline."
    )
    return "\n".join(lines) + "\n"


def reader_downloads(cell) -> None:
    """In a cell that calls ``show_downloads``, replace what it printed (from its first line to the
    end of that output: it is the cell's last call) by ``downloads_text``."""
    call = _downloads_call(cell.source)
    if call is None:
        return
    for output in cell.get("outputs", []):
        if output.get("output_type") != "stream" or output.get("name") != "stdout":
            continue
        text = "".join(output["text"])
        start = _DOWNLOADS_START.search(text)
        if start:
            output["text"] = text[: start.start()] + downloads_text(*call)
            return


def random_weights_banners(cell) -> list[str]:
    """Remove the RANDOM-weights banners and warnings from a cell's outputs; return the models named."""
    models: list[str] = []
    kept = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            text = "".join(output["text"])
            models += _WARNING.findall(text) if output.get("name") == "stderr" else _BANNER.findall(text)
            if output.get("name") == "stderr" and _WARNING.search(text):
                continue  # the warning's text is the raw error of the build machine
            output["text"] = _BANNER.sub("", text)
            if not output["text"]:
                continue
        kept.append(output)
    cell.outputs = kept
    return list(dict.fromkeys(models))


_NOT_WRITTEN_LINE = re.compile(rf"^{re.escape(WRONG_MARK)}(.+?): {re.escape(NOT_WRITTEN_PROBLEM)}\..*$")
READER_YOUR_TURN = "the course's reference answer fills in this step on this page."


def reader_your_turn(output) -> None:
    """A your-turn check's "not written yet" (stderr, in a learner's red) as a reader's plain line.

    The site executes the student version, so every your-turn cell is empty there and its check goes
    on with the reference answer; a reader needs to know only that. Other stderr lines stay as they are."""
    if output.get("output_type") != "stream" or output.get("name") != "stderr":
        return
    lines = "".join(output.get("text", "")).splitlines(keepends=True)
    reworded = [_NOT_WRITTEN_LINE.sub(rf"\1: {READER_YOUR_TURN}", line) for line in lines]
    if reworded == lines:
        return
    output["text"] = "".join(reworded)
    if all(line.rstrip().endswith(READER_YOUR_TURN) or not line.strip() for line in reworded):
        output["name"] = "stdout"  # nothing left that a reader should see in red
