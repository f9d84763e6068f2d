"""The quiz's clickable answers work inside JupyterLab, not only on the website.

A scratch notebook (under the ignored artifacts/) shows one question's widget; JupyterLab
runs it in the course's kernel, and Chromium clicks a wrong and the right answer. Outputs made
in the session are trusted, so the widget's script runs (a saved, reopened notebook is not
trusted until it is run again: the usual Jupyter rule).
"""

from __future__ import annotations

import shutil

import nbformat
from conftest import REPO_ROOT
from lab_server import start_lab_server

from helpers import quiz


def test_quiz_widget_answers_a_click_in_jupyterlab(tmp_path):
    from browser import artifacts_dir, chromium_page
    from playwright.sync_api import expect
    from test_quiz import ANSWERS

    from helpers.quiz_widget import PRACTICE_NOTE

    question = next(q for q, s in quiz.QUESTIONS.items() if s["kind"] == "choice")
    right = ANSWERS[question]
    wrong = next(o for o in quiz.QUESTIONS[question]["options"] if o != right)
    scratch = REPO_ROOT / "artifacts" / "quiz-widget-lab"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(f'from helpers.quiz_widget import ask\nask("{question}")')]
    nbformat.write(nb, scratch / "widget.ipynb")
    lab = start_lab_server(tmp_path / "lab")
    try:
        with chromium_page(viewport=(1200, 800)) as page:
            page.goto(f"{lab.url}/lab/tree/artifacts/quiz-widget-lab/widget.ipynb?token={lab.token}")
            panel = page.locator(".jp-NotebookPanel").first
            expect(panel.locator(".jp-Toolbar-kernelName")).to_contain_text("Python", timeout=120_000)
            panel.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=120_000)
            box = panel.locator(f'.jp-OutputArea .tl-quiz[data-question="{question}"]')
            # A run sent while the kernel is still connecting is dropped: run again until it shows.
            for _attempt in range(4):
                panel.locator(".jp-Cell").first.click()
                page.keyboard.press("Control+Enter")
                try:
                    box.wait_for(state="visible", timeout=20_000)
                    break
                except Exception:  # noqa: BLE001 - playwright's TimeoutError; retried, then asserted below
                    continue
            page.screenshot(path=str(artifacts_dir("jupyterlab") / "quiz-widget-run.png"))
            expect(box).to_be_visible()
            feedback = box.locator(".tl-quiz-feedback")
            box.locator(f'button[data-answer="{wrong}"]').click()
            expect(feedback).to_contain_text("Not yet. Hint:", timeout=5_000)
            box.locator(f'button[data-answer="{right}"]').click()
            expect(feedback).to_have_text(f"Correct. {PRACTICE_NOTE.format(question=question)}", timeout=5_000)
            page.screenshot(path=str(artifacts_dir("jupyterlab") / "quiz-widget.png"))
    finally:
        lab.stop()
        shutil.rmtree(scratch, ignore_errors=True)
