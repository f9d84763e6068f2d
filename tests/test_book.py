"""The course website: built offline, no solution or traceback in it, and it works in Chromium.

The site is built once per session (``python -m coursebook``, the same as ``make book``)
into a temporary folder, or into ``TL_COURSE_BOOK_OUTPUT``, from the session's one run of each
lesson (``--executed``, the runs test_lesson_runs.py checks: tests/lesson_runs.py). Unit tests of the pieces
(scanner, output cleaning, cost table) run without a build and prove each check can fail.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
import yaml
from conftest import REPO_ROOT, lesson_names

sys.path.insert(0, str(REPO_ROOT))  # coursebook/ is a build tool at the root, not part of helpers

from browser import artifacts_dir, chromium_page  # noqa: E402
from coursebook import costs, notebooks, scan  # noqa: E402
from helpers.config import env_text  # noqa: E402

CONFIG = yaml.safe_load((REPO_ROOT / "_config.yml").read_text())
LESSONS = lesson_names()


def lesson_title(name: str) -> str:
    nb = nbformat.read(REPO_ROOT / "lessons" / name / f"{name}.ipynb", as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "markdown")
    return re.search(r"^# (.+)$", first.source, re.M).group(1).strip()


# --------------------------------------------------------------------------- scanner


def test_scanner_finds_a_solution_line_behind_highlighting_and_escaping():
    secret = scan.Secret("x", scan.normalise('model.add(Dense(1, activation="sigmoid"))'))
    page = (
        '<div class="highlight"><pre><span class="n">model</span><span class="o">.</span>'
        '<span class="n">add</span>(<span class="n">Dense</span>(<span class="mi">1</span>,\n  '
        '<span class="n">activation</span>=<span class="s2">&quot;sigmoid&quot;</span>))</pre></div>'
    )
    assert secret.line in scan.page_text(page).text
    clean = "<p>model.add(Dense(2))</p>"
    assert secret.line not in scan.page_text(clean).text


def test_scanner_reports_leaks_tracebacks_and_error_blocks(tmp_path):
    secret = scan.Secret("x", "return guide[(size, similarity)]")
    (tmp_path / "leak.html").write_text("<pre><span>return</span> guide[(size, similarity)]</pre>")
    (tmp_path / "trace.html").write_text(
        '<div class="cell_output docutils container"><pre>NotImplementedError  Traceback (most recent call last)</pre></div>'
    )
    (tmp_path / "stderr.html").write_text('<div class="output stderr highlight-myst-ansi"><pre>oops</pre></div>')
    (tmp_path / "clean.html").write_text(
        '<pre>raise NotImplementedError()</pre><div class="cell_output docutils container"><pre>accuracy 0.9</pre></div>'
    )
    leaks = {p.path.name: p.what for p in scan.scan_site(tmp_path, [secret])}
    assert set(leaks) == {"leak.html", "trace.html", "stderr.html"}, leaks
    assert "solution" in leaks["leak.html"] and "error" in leaks["trace.html"]


def test_secrets_come_from_solution_and_hidden_test_regions_only():
    source = (
        "x = 1\n### BEGIN SOLUTION\nanswer = compute_the_thing()\n### END SOLUTION\n"
        "assert x\n### BEGIN HIDDEN TESTS\nassert hidden_check(answer)\n### END HIDDEN TESTS\n"
    )
    assert scan.region_lines(source) == ["answer = compute_the_thing()", "assert hidden_check(answer)"]
    found = scan.secrets(REPO_ROOT / "solutions", REPO_ROOT / "lessons")
    assert {s.notebook for s in found} == set(LESSONS), "every lesson has solution lines to look for"
    quiz_answers = {s.line for s in found if s.notebook == "05_quiz"}
    assert 'q1 = "d"' in quiz_answers and 'q7 = "b"' in quiz_answers, "short answers are secrets too"
    assert not any(s.line in ("else:", "pass", "}", "guide = {") for s in found), "syntax alone is no secret"


# --------------------------------------------------------------------------- output cleaning


def test_clean_outputs_drops_stub_and_test_outputs_widgets_and_reports_other_errors():
    nb = nbformat.v4.new_notebook()
    error = nbformat.v4.new_output("error", ename="NotImplementedError", evalue="", traceback=["Traceback"])
    stub = nbformat.v4.new_code_cell("raise NotImplementedError()", outputs=[error])
    stub.metadata["nbgrader"] = {"solution": True, "grade": False}
    test = nbformat.v4.new_code_cell("assert f()", outputs=[error])
    test.metadata["nbgrader"] = {"solution": False, "grade": True, "points": 1}
    widget = nbformat.v4.new_output("display_data", data={notebooks.WIDGET_MIME: {"model_id": "x"}, "text/plain": "0%|"})
    walk = nbformat.v4.new_code_cell("fit()", outputs=[widget, nbformat.v4.new_output("stream", name="stdout", text="ok\n")])
    broken = nbformat.v4.new_code_cell(
        "load()", outputs=[nbformat.v4.new_output("error", ename="WeightsUnavailableError", evalue="no weights", traceback=[])]
    )
    nb.cells = [stub, test, walk, broken]
    failures = notebooks.clean_outputs(nb)
    assert stub.outputs == [] and test.outputs == []
    assert [o["output_type"] for o in walk.outputs] == ["stream"]
    assert [f.index for f in failures] == [3] and "WeightsUnavailableError: no weights" in failures[0].message
    assert "TL_COURSE_ALLOW_RANDOM_WEIGHTS=1" in notebooks._failure_report(Path("x.ipynb"), failures)


# --------------------------------------------------------------------------- cost table


def test_cost_table_reads_measurements_and_says_when_there_are_none(tmp_path):
    table = costs.lesson_table(["01_concepts", "02_vgg16_feature_extraction"], tmp_path / "missing")
    assert table.count(costs.NOT_MEASURED) == 4
    (tmp_path / "laptop.json").write_text(
        json.dumps(
            {
                "machine": {"description": "2-core laptop"},
                "lessons": {"01_concepts": {"quick": {"median_s": 90.0}, "full": {"median_s": 600.0}}},
            }
        )
    )
    (tmp_path / "h100.json").write_text(
        json.dumps(
            {
                "machine": {"description": "H100 box", "gpu": "NVIDIA H100"},
                "lessons": {"01_concepts": {"full": {"median_s": 30.0}}},
            }
        )
    )
    row = next(
        line
        for line in costs.lesson_table(["01_concepts", "02_vgg16_feature_extraction"], tmp_path).splitlines()
        if "01_concepts" in line
    )
    cpu, gpu = row.split("|")[3:5]
    assert "full 10.0 min, quick 90 s (2-core laptop)" in cpu and "full 30 s (H100 box)" in gpu
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ValueError, match="bad.json"):
        costs.lesson_table(["01_concepts"], tmp_path)


# --------------------------------------------------------------------------- configuration


def test_install_cell_installs_from_the_sites_repository():
    url = CONFIG["repository"]["url"]
    for name in LESSONS:
        nb = nbformat.read(REPO_ROOT / "lessons" / name / f"{name}.ipynb", as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code[0].get("id") == "colab_install", f"{name}: the first code cell installs helpers on Colab"
        assert f"git+{url}" in code[0].source, name
        assert code[0].metadata["nbgrader"]["locked"], name


def test_toc_lists_every_lesson_and_launch_buttons_are_configured():
    toc = (REPO_ROOT / "_toc.yml").read_text()
    for name in LESSONS:
        assert f"lessons/{name}/{name}" in toc
    assert "solutions/" not in toc.replace("never the instructor", "")
    buttons = CONFIG["launch_buttons"]
    assert buttons["colab_url"] and buttons["binderhub_url"] and buttons["jupyterhub_url"]
    assert CONFIG["execute"]["execute_notebooks"] == "off"


def test_jupyterhub_button_points_at_the_hub_given_to_the_build(tmp_path):
    from coursebook import build

    config = tmp_path / "_config.yml"
    config.write_text((REPO_ROOT / "_config.yml").read_text())
    said = []
    build.set_jupyterhub_url(config, None, said.append)
    assert said and "JUPYTERHUB_URL" in said[0], "a placeholder button is announced"
    build.set_jupyterhub_url(config, "https://hub.example.edu/", said.append)
    assert yaml.safe_load(config.read_text())["launch_buttons"]["jupyterhub_url"] == "https://hub.example.edu"
    with pytest.raises(build.BookBuildError, match="not a URL"):
        build.set_jupyterhub_url(config, "hub.example.edu", said.append)


# --------------------------------------------------------------------------- the built site


EXPECTED_COSTS: dict[str, str] = {}  # the cost table as the build sees bench/results


@pytest.fixture(scope="module")
def site(tmp_path_factory, lesson_runs) -> Path:
    output = Path(env_text("TL_COURSE_BOOK_OUTPUT") or tmp_path_factory.mktemp("book"))
    EXPECTED_COSTS["table"] = costs.lesson_table(LESSONS, REPO_ROOT / "bench" / "results")
    start = time.perf_counter()
    # The session's one run of each lesson (test_lesson_runs.py checks the same runs); last lesson
    # first, so that a worker running test_lesson_runs.py from the first meets this one halfway.
    for name in reversed(LESSONS):
        lesson_runs.get(name)
    result = subprocess.run(
        [sys.executable, "-m", "coursebook", "--output", str(output), "--executed", str(lesson_runs.folder)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    print(f"site built in {time.perf_counter() - start:.0f} s\n{result.stdout[-2000:]}")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return output / "_build" / "html"


def test_site_has_no_solution_line_hidden_test_or_traceback(site):
    found = scan.secrets(REPO_ROOT / "solutions", REPO_ROOT / "lessons")
    pages = list(site.rglob("*.html"))
    assert len(pages) > len(LESSONS)
    leaks = scan.scan_site(site, found)
    assert not leaks, "\n".join(f"{leak.path.relative_to(site)}: {leak.what}" for leak in leaks[:20])


@pytest.mark.parametrize("name", LESSONS)
def test_lesson_page_has_title_figures_and_launch_buttons(site, name):
    page = (site / "lessons" / name / f"{name}.html").read_text()
    assert f"<h1>{lesson_title(name)}" in page
    if name != "05_quiz":  # the quiz has no figure; its widgets are tested in Chromium below
        assert scan.page_text(page).output_images >= 1, f"{name}: no figure in any output"
    for button in (
        "colab.research.google.com/github/tl-course/transfer-learning-cv/blob/main/lessons/",
        "mybinder.org/v2/gh/tl-course/transfer-learning-cv/main?urlpath=lab/tree/lessons/",
        "/hub/user-redirect/git-pull?repo=",
    ):
        assert f"{button}" in page, f"{name}: launch button {button} missing"


def test_intro_lists_lessons_with_measured_costs(site):
    intro = scan.page_text((site / "docs" / "intro.html").read_text()).text
    table = EXPECTED_COSTS["table"]
    for name in LESSONS:
        assert name in intro
    rows = [line for line in table.splitlines() if line.startswith("| ") and "`" in line]
    assert len(rows) == len(LESSONS)
    for row in rows:
        cpu, gpu = (scan.normalise(cell) for cell in row.split("|")[3:5])
        assert cpu in intro and gpu in intro, row
    assert "make course" in intro and "git clone" in intro
    assert (site / "docs" / "instructor_guide.html").is_file() and (site / "docs" / "grading.html").is_file()


# --------------------------------------------------------------------------- in a real browser


@pytest.fixture(scope="module")
def served(site):
    """The site over loopback HTTP (as a web server would serve it)."""

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # keep the test log readable
            pass

    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_lesson_pages_render_in_chromium(served):
    shots = artifacts_dir("book")
    with chromium_page() as page:
        page.goto(f"{served}/index.html")
        page.wait_for_url("**/docs/intro.html")  # the root page redirects to the intro
        page.wait_for_load_state("load")
        assert "Transfer learning for computer vision" in page.title()
        assert page.locator("table").filter(has_text="01_concepts").count() == 1
        page.screenshot(path=str(shots / "intro.png"), full_page=False)
        for name in LESSONS:
            page.goto(f"{served}/lessons/{name}/{name}.html")
            page.wait_for_load_state("load")
            assert page.locator("h1").first.inner_text().strip().rstrip("#").strip() == lesson_title(name)
            page.screenshot(path=str(shots / f"{name}.png"), full_page=False)
            if name == "05_quiz":
                continue
            widths = page.eval_on_selector_all(".cell_output img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
            assert widths and max(widths) > 0, f"{name}: no figure rendered"
            page.locator(".cell_output img").first.screenshot(path=str(shots / f"{name}_figure.png"))


def test_quiz_answers_a_click_with_feedback_in_chromium(served):
    from test_quiz import ANSWERS

    from helpers import quiz
    from helpers.quiz_widget import PRACTICE_LABEL, PRACTICE_NOTE

    with chromium_page() as page:
        page.goto(f"{served}/lessons/05_quiz/05_quiz.html")
        page.wait_for_load_state("load")
        boxes = page.locator(".tl-quiz")
        assert boxes.count() == len(quiz.QUESTIONS)
        for question_id, spec in quiz.QUESTIONS.items():
            box = page.locator(f'.tl-quiz[data-question="{question_id}"]')
            assert box.inner_text().startswith(PRACTICE_LABEL.strip()), "the buttons say they are not graded"
            feedback = box.locator(".tl-quiz-feedback")
            right = ANSWERS[question_id]
            if spec["kind"] in ("choice", "bool"):
                right_text = str(right).lower()
                wrong = (
                    next(o for o in spec["options"] if o != right_text) if spec["kind"] == "choice" else str(not right).lower()
                )
                box.locator(f'button[data-answer="{wrong}"]').click()
                assert feedback.inner_text().startswith("Not yet. Hint:"), question_id
                box.locator(f'button[data-answer="{right_text}"]').click()
            else:
                box.locator("input").fill(str(right + 3))
                box.locator("button.tl-quiz-check").click()
                assert feedback.inner_text().startswith("Not yet. Hint:"), question_id
                box.locator("input").fill("not a number")
                box.locator("button.tl-quiz-check").click()
                assert feedback.inner_text().startswith("Not yet: answer with"), question_id
                box.locator("input").fill(str(right))
                box.locator("button.tl-quiz-check").click()
            assert feedback.inner_text() == f"Correct. {PRACTICE_NOTE.format(question=question_id)}", question_id
            if question_id == "q1":
                box.locator(f'button[data-answer="{wrong}"]').click()  # leave a hint on the screenshot
                box.screenshot(path=str(artifacts_dir("book") / "quiz_q1_feedback.png"))
                box.locator(f'button[data-answer="{right_text}"]').click()
                assert feedback.inner_text().startswith("Correct. Practice only")


# --------------------------------------------------------------------------- what a reader sees (issue 20)

# Traces of the build machine that must not reach an output cell (the helpers' learner outputs are
# reworded for readers by coursebook.wording; coursebook.reader hides the remaining folders).
MACHINE_TRACES = ("/tmp", "NO NETWORK", "TL_COURSE_", f"{Path.home()}/", str(REPO_ROOT))
RAW_ERROR = re.compile(r"Traceback \(most recent call last\)|\b[A-Z]\w*(Error|Exception)\b|\[Errno|<urlopen")
FILE_NAME = re.compile(r"(.*/)?[\w.-]+\.(png|jpe?g|gif|svg|webp)|[0-9a-f]{16,}", re.I)
NOTICE = "This page was built with random weights"


def offline(page, served: str) -> list[str]:
    """Refuse every request that is not to the local server; returns the refused addresses."""
    refused: list[str] = []

    def only_local(route):
        if route.request.url.startswith(served):
            return route.continue_()
        refused.append(route.request.url)
        return route.abort()

    page.context.route("**/*", only_local)
    return refused


def staged_notes(site: Path, name: str) -> dict:
    """What the build recorded about a lesson (coursebook.reader): random weights, missing alt."""
    from coursebook import reader

    return reader.build_notes(nbformat.read(site.parent / "site_src" / "lessons" / name / f"{name}.ipynb", as_version=4))


def test_every_page_reads_like_a_textbook_in_chromium(site, served):
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    problems = []
    with chromium_page() as page:
        for relative in pages:
            if 'http-equiv="refresh"' in (site / relative).read_text().lower():
                continue  # a redirect stub (index.html): the page it leads to is in the list
            page.goto(f"{served}/{relative}")
            page.wait_for_load_state("load")
            for text in page.locator(".cell_output").all_inner_texts():
                problems += [
                    f"{relative}: {trace!r} in ...{text[max(0, text.find(trace) - 80) : text.find(trace) + 80]}..."
                    for trace in MACHINE_TRACES
                    if trace in text
                ]
                match = RAW_ERROR.search(text)
                if match:
                    problems.append(f"{relative}: raw error text ...{text[max(0, match.start() - 80) : match.end() + 80]}...")
    assert len(pages) > len(LESSONS)
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("name", LESSONS)
def test_random_weights_notice_opens_the_page_only_when_weights_were_random(site, served, name):
    random = staged_notes(site, name).get("random_weights", [])
    with chromium_page() as page:
        page.goto(f"{served}/lessons/{name}/{name}.html")
        page.wait_for_load_state("load")
        notices = page.locator(".admonition.warning").filter(has_text=NOTICE)
        assert notices.count() == (1 if random else 0), f"{name}: random weights {random}"
        if random:
            first_cell = page.locator(".cell").first.bounding_box()
            assert notices.first.bounding_box()["y"] < first_cell["y"], "the notice comes before any code"
            assert all(model in notices.first.inner_text() for model in random)
            notices.first.screenshot(path=str(artifacts_dir("book") / f"{name}_notice.png"))


def test_every_lesson_figure_has_alt_text_that_says_what_it_shows(served):
    missing = []
    with chromium_page() as page:
        for name in LESSONS:
            page.goto(f"{served}/lessons/{name}/{name}.html")
            page.wait_for_load_state("load")
            for alt, src in page.eval_on_selector_all(".bd-article img", "imgs => imgs.map(i => [i.alt, i.src])"):
                if not alt.strip() or FILE_NAME.fullmatch(alt.strip()):
                    missing.append(f"{name}: {src.rsplit('/', 1)[-1][:16]}... has alt {alt!r}")
    assert not missing, 'figures need cell metadata {"mystnb": {"image": {"alt": "..."}}} (TEAM.md):\n' + "\n".join(missing)


def test_search_finds_a_lesson_offline_in_chromium(served):
    with chromium_page() as page:
        refused = offline(page, served)
        page.goto(f"{served}/docs/intro.html")
        page.wait_for_load_state("load")
        page.keyboard.press("Control+k")  # the theme's search shortcut opens the search box
        box = page.locator("input[name=q]:visible").first
        box.fill("ResNet50")
        box.press("Enter")
        page.wait_for_url("**/search.html?q=ResNet50*")
        page.wait_for_selector("#search-results li", timeout=20000)
        hits = page.eval_on_selector_all("#search-results li a", "links => links.map(a => a.getAttribute('href'))")
        page.screenshot(path=str(artifacts_dir("book") / "search.png"))
        assert any("lessons/03_resnet50_fine_tuning/" in hit for hit in hits[:3]), hits
        page.goto(f"{served}/search.html?q=zzyzxnonsenseword")
        page.wait_for_function(
            "document.querySelector('#search-results') && document.querySelector('#search-results').innerText.length > 0",
            timeout=20000,
        )
        assert page.locator("#search-results li").count() == 0
    assert not refused, f"the site asked the network for {refused}"


def test_each_lesson_page_with_its_images_weighs_at_most_2_mb(site, served):
    from coursebook import assets

    weights = {}
    for name in LESSONS:
        with chromium_page() as page:  # a fresh profile: nothing comes from a cache
            refused = offline(page, served)
            sizes: dict[str, int] = {}
            page.on("response", lambda response: sizes.__setitem__(response.url, len(response.body())))  # noqa: B023 (one page per iteration)
            page.goto(f"{served}/lessons/{name}/{name}.html")
            page.wait_for_load_state("networkidle")
            page.evaluate("window.scrollTo(0, document.body.scrollHeight)")  # lazy images, if any
            page.wait_for_load_state("networkidle")
            weights[name] = sum(sizes.values())
            assert not refused, f"{name} asked the network for {refused}"
            assert any("_images/" in url for url in sizes) or name == "05_quiz", f"{name}: no figure fetched"
    print("page weights in Chromium: " + ", ".join(f"{n} {b / 1e6:.2f} MB" for n, b in weights.items()))
    heavy = {name: size for name, size in weights.items() if size > assets.PAGE_BUDGET_BYTES}
    assert not heavy, f"over {assets.PAGE_BUDGET_BYTES / 1e6:.0f} MB: {heavy}"
    assert not list(site.rglob("fontawesome.js")), "the theme's unused 1.5 MB icon script is not shipped"
