"""Browser steps of a term on the course hub (tests/test_hub.py): what a learner, the instructor and
the second grader click, in headless Chromium through the hub's real login page.

Selectors are nbgrader 0.9.6's (formgrader's Manage Assignments / Manage Submissions tables, the
JupyterLab Assignment List) and JupyterLab 4.6's.
"""

from __future__ import annotations

import re
import time
from contextlib import contextmanager
from pathlib import Path

import nbformat

from browser import CHROMIUM_FLAGS, require_chromium

LONG = 240_000  # ms: a spawn, a fetch or a sandboxed autograde on a loaded 2-core machine


class Timeline:
    """Seconds per step of the term, in order."""

    def __init__(self):
        self.steps: list[tuple[str, float]] = []

    @contextmanager
    def step(self, name: str):
        started = time.perf_counter()
        yield
        self.steps.append((name, time.perf_counter() - started))

    def sentence(self) -> str:
        return "; ".join(f"{name} {seconds:.0f} s" for name, seconds in self.steps)


@contextmanager
def browser():
    from playwright.sync_api import sync_playwright

    executable = require_chromium()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


def new_page(chromium):
    page = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(60_000)
    return page


def log_in(page, hub_url: str, user: str, password: str, start: str = "/hub/login") -> None:
    """Open ``start`` (a login page, or a link that leads to it) and log in through the hub's form."""
    page.goto(hub_url + start)
    page.wait_for_selector("#username_input")
    page.fill("#username_input", user)
    page.fill("#password_input", password)
    page.click("#login_submit")


def wait_for_lab(page, user: str) -> None:
    page.wait_for_url(re.compile(rf".*/user/{re.escape(user)}/lab.*"), timeout=LONG)
    page.wait_for_selector(".lm-MenuBar-itemLabel:text-is('Nbgrader')", timeout=LONG)


# --- formgrader (instructor, second grader) -------------------------------------------------------
def close_modal(page) -> str:
    """The text of formgrader's result dialog (success or error), after closing it."""
    modal = page.wait_for_selector("#success-modal, #error-modal", timeout=LONG)
    text = modal.inner_text()
    ok = modal.get_attribute("id") == "success-modal"
    page.locator(".modal-footer button.close").click()
    page.wait_for_selector(".modal", state="detached")
    assert ok, f"formgrader reported an error:\n{text[-3000:]}"
    return text


def course_list_link(page) -> str:
    """Nbgrader > Course List in an instructor's JupyterLab: the link to the course's formgrader."""
    page.locator(".lm-MenuBar-itemLabel:text-is('Nbgrader')").click()
    page.locator(".lm-Menu-itemLabel:text-is('Course List')").click()
    link = page.locator("a:has-text('transfer-learning-cv')").first
    link.wait_for(timeout=LONG)
    return link.get_attribute("href")


def formgrader(page, hub_url: str, service_prefix: str, view: str = "manage_assignments") -> None:
    page.goto(f"{hub_url}{service_prefix}formgrader/{view}")
    page.wait_for_selector("table tbody tr td", timeout=LONG)


def assignment_action(page, assignment: str, column: str) -> str:
    """Click a button of an assignment's row on Manage Assignments (assign = Generate, release,
    collect, generate-feedback, release-feedback)."""
    row = page.locator("tr", has=page.locator(f"td.name[data-order='{assignment}']"))
    row.locator(f"td.{column} a").click()
    return close_modal(page)


def set_due_date(page, assignment: str, due: str) -> None:
    """Manage Assignments > Edit: due date (``YYYY-MM-DDTHH:MM:SS``, UTC)."""
    row = page.locator("tr", has=page.locator(f"td.name[data-order='{assignment}']"))
    row.locator("td.edit a").click()
    page.wait_for_selector("#edit-assignment-modal input.modal-duedate")
    page.fill("#edit-assignment-modal input.modal-duedate", due)
    page.fill("#edit-assignment-modal input.modal-timezone", "UTC")
    page.locator("#edit-assignment-modal button.save").click()
    page.wait_for_selector("#edit-assignment-modal", state="detached", timeout=LONG)


def autograde_all(page, hub_url: str, service_prefix: str, assignment: str, students: list[str]) -> dict[str, str]:
    """Manage Submissions: the autograde button of each student; returns student -> score text."""
    formgrader(page, hub_url, service_prefix, f"manage_submissions/{assignment}")
    for student in students:
        row = page.locator("tr", has=page.locator(f"td.student-id:text-is('{student}')"))
        row.locator("td.autograde a").click()
        close_modal(page)
    formgrader(page, hub_url, service_prefix, f"manage_submissions/{assignment}")
    return submission_scores(page, rows=len(students))


def submission_scores(page, rows: int) -> dict[str, str]:
    """student -> score text of Manage Submissions, once its table shows ``rows`` rows (it fills in by script)."""
    page.wait_for_function(f"document.querySelectorAll('table tbody tr td.student-id').length >= {rows}", timeout=LONG)
    scores = {}
    for row in page.locator("table tbody tr").all():
        student = row.locator("td.student-id").inner_text().strip()
        scores[student] = row.locator("td.score").inner_text().strip()
    return scores


# --- JupyterLab (students) ------------------------------------------------------------------------
def open_assignment_list(page):
    page.locator(".lm-MenuBar-itemLabel:text-is('Nbgrader')").click()
    page.locator(".lm-Menu-itemLabel:text-is('Assignment List')").click()
    page.wait_for_selector("#released_assignments_list", timeout=LONG)
    page.wait_for_selector("#released_assignments_list_loading", state="hidden", timeout=LONG)


def refresh_assignment_list(page):
    page.locator("#refresh_assignments_list").click()
    page.wait_for_timeout(500)
    for name in ("released", "fetched", "submitted"):
        page.wait_for_selector(f"#{name}_assignments_list_loading", state="hidden", timeout=LONG)


def list_item(page, list_name: str, assignment: str):
    return page.locator(f"#{list_name}_assignments_list .list_item", has=page.locator(f".item_name:has-text('{assignment}')"))


def fetch_assignment(page, assignment: str) -> None:
    list_item(page, "released", assignment).locator("button:text-is('Fetch')").click()
    list_item(page, "fetched", assignment).first.wait_for(timeout=LONG)


def submit_assignment(page, assignment: str) -> None:
    before = list_item(page, "submitted", assignment).count()
    list_item(page, "fetched", assignment).first.locator("button:text-is('Submit')").click()
    page.wait_for_function(
        "([sel, n]) => document.querySelectorAll(sel).length > n",
        arg=["#submitted_assignments_list .list_item", before],
        timeout=LONG,
    )


def open_fetched_notebook(page, assignment: str) -> None:
    """Expand the fetched assignment and click its notebook: it opens in JupyterLab."""
    item = list_item(page, "fetched", assignment).first
    item.locator(".item_name a").first.click()  # expands the list of notebooks
    item.locator(f"a:text-is('{assignment}')").last.click()
    page.wait_for_selector(f".lm-DockPanel-tabBar .lm-TabBar-tabLabel:text-is('{assignment}.ipynb')", timeout=LONG)
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell", timeout=LONG)


def answer_cells(page, answers: list[tuple[int, str]]) -> None:
    """Type each answer into the notebook's cell at that index (select all, replace), then save."""
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
    for index, text in answers:
        cell = notebook.locator(".jp-Notebook-cell").nth(index)
        cell.scroll_into_view_if_needed()
        cell.locator(".cm-content").click()
        page.keyboard.press("Control+a")
        page.keyboard.insert_text(text)
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    page.wait_for_selector(".lm-DockPanel-tabBar .lm-TabBar-tab.jp-mod-current:not(.jp-mod-dirty)", timeout=LONG)


def close_all_tabs(page) -> None:
    page.locator(".lm-MenuBar-itemLabel:text-is('File')").click()
    page.locator(".lm-Menu-itemLabel:text-is('Close All Tabs')").click()
    dialog = page.locator(".jp-Dialog button:has-text('Discard')")
    if dialog.count():
        dialog.first.click()


def fetch_feedback(page, assignment: str) -> None:
    item = list_item(page, "submitted", assignment).first
    item.locator("button:text-is('Fetch Feedback')").click()
    page.wait_for_selector("#submitted_assignments_list a:has-text('view feedback')", timeout=LONG)


def read_score_in_feedback(page, hub_url: str, user: str, html_path: str) -> tuple[float, float, str]:
    """Open the feedback page in the browser (the learner's own server serves it) and read its score."""
    page.goto(f"{hub_url}/user/{user}/files/{html_path}")
    text = page.locator("body").inner_text()
    match = re.search(r"Score:\s*([\d.]+)\s*/\s*([\d.]+)", text)
    assert match, f"no score in the feedback page {html_path}:\n{text[:1500]}"
    return float(match[1]), float(match[2]), text


# --- answers --------------------------------------------------------------------------------------
def solution_text(source: str) -> str:
    """An instructor's solution cell without nbgrader's markers: what a right answer looks like."""
    return "\n".join(line for line in source.splitlines() if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)


def answers(solution: Path, released: Path, wrong: dict[str, str]) -> list[tuple[int, str]]:
    """(cell index in the released notebook, text) for each answer cell; ``wrong`` replaces some."""
    right = {
        cell.metadata.nbgrader["grade_id"]: solution_text(cell.source)
        for cell in nbformat.read(solution, as_version=4).cells
        if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code"
    }
    result = []
    for index, cell in enumerate(nbformat.read(released, as_version=4).cells):
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            result.append((index, wrong.get(meta["grade_id"], right[meta["grade_id"]])))
    return result
