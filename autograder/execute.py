"""nbgrader plumbing: run only the cells that can change a grade, and survive bad submissions.

``GradedCellsExecute`` replaces nbgrader's ``Execute`` step of ``nbgrader autograde`` (wired in
the repo's ``nbgrader_config.py``). Compared with nbgrader's own, it

- executes only nbgrader cells (locked cells such as the ``setup`` imports, solution cells and
  test cells) and skips the walkthrough. Exercises sit at the end of each lesson and their
  tests use tiny synthetic inputs, so training the lesson's models again would only cost time
  (a full grading-mode run of lesson 03 takes over a minute). Cells a student added (a helper
  function their answer uses) run too, in place: they are the code cells whose id is not in
  the instructor's notebook (``source_root``), so what passes Validate is graded the same.
  Students cannot make a walkthrough cell count, and nbgrader restores the source of locked
  and test cells from the gradebook before this step runs.
  A skipped cell gets a one-line note, so the feedback does not look as if it failed;
- bounds the time of a test or solution cell (``TL_COURSE_CELL_TIMEOUT`` seconds, see
  ``cell_timeout()``); locked instructor cells (the setup imports) get ``locked_cell_timeout``;
- bounds a cell's output (``max_output_chars``): an endless ``print`` cannot fill the
  memory of the grader or the gradebook (nbgrader's ``LimitOutput`` counts lines only);
- survives a dead kernel (``os._exit()``, a segfault, the out-of-memory killer) or one that
  ignores the timeout's interrupt (``except: pass`` in a loop): the cell gets an error (so its
  test fails), a new kernel replays the cells that ran before, and grading goes on. nbgrader
  itself would abandon the whole notebook (or time out every later cell).

- bounds the whole notebook (``TL_COURSE_NOTEBOOK_TIMEOUT`` seconds, see ``notebook_timeout()``):
  a cell never gets more than what is left of it, and once it is spent the remaining graded
  cells fail at once (``NotebookTimeout``) and the grade counts what ran;
- checks that each test cell ran as written (``test_integrity``): just before it, IPython's
  input and AST transformers and ``sys.settrace``/``sys.setprofile`` are put back to their
  defaults through a channel the transformers do not see (``user_expressions``), and a secret
  marker, new for every run, is added after the test's last statement; a test cell that neither
  failed nor printed the marker gets an error (``TestNotRunAsWritten``: no points for it) and
  grading gives the notebook the ``review`` status. The marker is removed from the output.
  The tests still run in the student's process: see docs/grading.md for what remains possible.
- refuses, before any cell runs, a notebook whose lesson needs ImageNet weights the sandbox
  cannot find (``weights.py``): the submission fails with the fix instead of scoring 0 on
  every weights-dependent check.

Only ``nbgrader autograde`` uses it: nbgrader's ``Validator`` (the "Validate" button) has a
fixed list of preprocessors and still runs the whole notebook (in quick mode).
"""

from __future__ import annotations

import ast
import copy
import json
import math
import secrets
import time
from pathlib import Path

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, List, Unicode, default
from helpers.config import env_int

DEFAULT_CELL_TIMEOUT = 60
TIMEOUT_VARIABLE = "TL_COURSE_CELL_TIMEOUT"
DEFAULT_NOTEBOOK_TIMEOUT = 600
NOTEBOOK_TIMEOUT_VARIABLE = "TL_COURSE_NOTEBOOK_TIMEOUT"
# the error a test cell gets when it did not run as written (grading looks for it: status "review")
NOT_AS_WRITTEN = "TestNotRunAsWritten"
NOTEBOOK_TIMEOUT_ERROR = "NotebookTimeout"

# Run in the kernel before each test cell, through user_expressions (evaluated outside IPython's
# transformers): IPython's default transformers, no tracer, no profiler. Ends with the token.
_GUARD = """
import sys, threading
from IPython import get_ipython
from IPython.core.inputtransformer2 import TransformerManager
_ip = get_ipython()
_ip.input_transformer_manager = TransformerManager()
_ip.input_transformers_post = []
_ip.ast_transformers = []
sys.settrace(None)
sys.setprofile(None)
threading.settrace(None)
threading.setprofile(None)
ok = TOKEN
"""

SKIPPED_NOTE = "[not run by the autograder: this cell does not change the grade]\n"
KERNEL_DIED = (
    "The Python process running this notebook died during this cell (os._exit(), a crash, or "
    "too much memory). The autograder started a new one, re-ran the cells before this one and "
    "went on; this cell's work is lost."
)


def cell_timeout() -> int:
    """Seconds one graded cell may run: ``TL_COURSE_CELL_TIMEOUT`` or 60.

    The slowest legitimate graded cell (the setup cell importing TensorFlow, a test building
    ResNet50 without weights) takes about 10 s here; 60 s leaves room for a loaded machine and
    still cuts an infinite loop in a minute instead of nbgrader's default of 300 s.
    """
    return env_int(TIMEOUT_VARIABLE, DEFAULT_CELL_TIMEOUT)


def notebook_timeout() -> int:
    """Seconds a whole notebook may take: ``TL_COURSE_NOTEBOOK_TIMEOUT`` or 600 (10 min)."""
    return env_int(NOTEBOOK_TIMEOUT_VARIABLE, DEFAULT_NOTEBOOK_TIMEOUT)


def is_test_cell(cell: NotebookNode) -> bool:
    """An autograder test: graded, not a solution (its source comes from the gradebook)."""
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def with_marker(source: str, marker: str) -> str:
    """``source`` with ``print(marker)`` after its last statement (before a final expression,
    whose value nbgrader may read as partial credit)."""
    line = f"print({marker!r})\n"
    try:
        body = ast.parse(source).body
    except SyntaxError:  # IPython syntax (magics): at the very end
        return source.rstrip("\n") + "\n" + line
    if body and isinstance(body[-1], ast.Expr) and body[-1].col_offset == 0:
        lines = source.splitlines(keepends=True)
        start = body[-1].lineno - 1
        return "".join(lines[:start]) + line + "".join(lines[start:])
    return source.rstrip("\n") + "\n" + line


def _strip_marker(outputs: list, marker: str) -> bool:
    """Remove the marker's line from ``outputs``; whether it was there."""
    found = False
    for out in list(outputs):
        if out.get("output_type") == "stream" and out.get("name") == "stdout" and marker in out.get("text", ""):
            found = True
            out["text"] = "".join(line for line in out["text"].splitlines(keepends=True) if marker not in line)
            if not out["text"]:
                outputs.remove(out)
    return found


def counts_for_grade(cell: NotebookNode) -> bool:
    """True for a code cell that nbgrader knows: locked, solution or test (with a grade_id)."""
    meta = cell.metadata.get("nbgrader", {})
    return (
        cell.cell_type == "code"
        and bool(meta.get("grade_id"))
        and any(meta.get(flag) for flag in ("locked", "solution", "grade"))
    )


def _grade_id(cell: NotebookNode) -> str:
    return cell.metadata.get("nbgrader", {}).get("grade_id", "")


def _output_chars(msg: dict) -> int:
    content = msg.get("content", {})
    if "text" in content:
        return len(content["text"])
    data = content.get("data") or {}
    return sum(len(str(value)) for value in data.values())


class GradedCellsExecute(Execute):
    """nbgrader's ``Execute``, running graded cells only, with bounded time, output and crashes."""

    skip_walkthrough = Bool(True, help="Run only nbgrader cells (locked, solution, test); skip plain cells.").tag(config=True)

    max_output_chars = Integer(200_000, help="Characters of output kept per cell; the rest is dropped with a note.").tag(
        config=True
    )

    locked_cell_timeout = Integer(
        300, help="Seconds for locked cells that are not tests (the setup imports): instructor code."
    ).tag(config=True)

    # nbgrader waits 4 s for a cell's output after its reply and fails the whole notebook
    # when it does not come; on a loaded machine (a class graded beside other work) it does.
    iopub_timeout = Integer(30, help=Execute.iopub_timeout.help).tag(config=True)

    # After a cell's time limit the kernel is interrupted. A kernel that obeys goes idle within a
    # second; one whose loop swallows the interrupt never does: these bound how long grading waits
    # for it (instead of iopub_timeout, then a whole cell timeout for the probe) before a new kernel.
    interrupt_grace = Integer(10, help="Seconds to wait for a timed-out cell's kernel to go idle after the interrupt.").tag(
        config=True
    )
    probe_timeout = Integer(5, help="Seconds a trivial cell may take to show the kernel still answers.").tag(config=True)

    skip_cells = List(
        Unicode(),
        [],
        help="grade_ids of locked cells that grading does not need (e.g. a lesson's cost table).",
    ).tag(config=True)

    source_root = Unicode(
        "",
        help="Folder of the instructor notebooks (ASSIGNMENT/NOTEBOOK.ipynb): cells whose id is "
        "not there were added by the student and run. Empty: added cells are skipped too.",
    ).tag(config=True)

    max_kernel_restarts = Integer(3, help="Kernel deaths survived per notebook before the remaining cells are failed.").tag(
        config=True
    )

    notebook_timeout = Integer(
        help="Seconds for the whole notebook (TL_COURSE_NOTEBOOK_TIMEOUT, default 600): once spent, "
        "the remaining graded cells fail at once."
    ).tag(config=True)

    test_integrity = Bool(
        True,
        help="Restore IPython's transformers and tracers before each test cell and check, with "
        "a secret marker, that it ran as written.",
    ).tag(config=True)

    @default("notebook_timeout")
    def _notebook_timeout_from_env(self):
        return notebook_timeout()

    @default("shutdown_kernel")
    def _kill_kernel_when_done(self):
        # Once the last graded cell has answered, nothing is left to wait for: a graceful
        # shutdown lets the kernel's interpreter finalize torch, about 1.5-2.8 s per notebook
        # (measured), a fifth of grading a lesson. Killing the sandbox ends every process in it.
        return "immediate"

    def __init__(self, *args, **kwargs):
        from autograder.sandbox import kernel_manager_class  # each kernel in a sandbox (bwrap)

        kwargs.setdefault("kernel_manager_class", kernel_manager_class())
        super().__init__(*args, **kwargs)

    def preprocess(self, nb, resources=None, km=None):
        self._ran: list[tuple[int, NotebookNode]] = []  # cells that ran, for a replay
        self._output_budget: dict[int, int] = {}
        self._capped: set[int] = set()
        self._restarts = 0
        self._deadline = time.monotonic() + self.notebook_timeout
        self._course_ids = self._instructor_cell_ids(nb, resources or {})
        self._declared_files = self._lesson_files(resources or {})
        self._check_weights(resources or {})
        return super().preprocess(nb, resources, km)

    def _check_weights(self, resources: dict) -> None:
        """Before any cell runs: the lesson's ImageNet weights must be where the sandbox finds them
        (``weights.py``), or the submission fails here, with the fix, instead of scoring 0 on every
        weights-dependent check. ``make grade`` checks each lesson before it starts; this is what
        ``nbgrader autograde`` and formgrader meet."""
        from autograder import weights

        info = resources.get("nbgrader", {})
        if not self.source_root or not info.get("assignment"):
            return
        path = Path(self.source_root) / info["assignment"] / f"{info.get('notebook')}.ipynb"
        if path.is_file():
            weights.check_notebook(info["assignment"], path)

    def create_kernel_manager(self):
        """The sandbox gets the lesson's other files (beside the notebook in ``source_root``),
        bound in from the instructor's copy: nothing else a student handed in is there."""
        km = super().create_kernel_manager()
        if hasattr(km, "declared_files"):
            km.declared_files = getattr(self, "_declared_files", {})
        return km

    def _lesson_files(self, resources: dict) -> dict[str, Path]:
        info = resources.get("nbgrader", {})
        folder = Path(self.source_root) / info.get("assignment", "") if self.source_root and info.get("assignment") else None
        if folder is None or not folder.is_dir():
            return {}
        return {
            p.name: p
            for p in folder.iterdir()
            if p.is_file() and not p.is_symlink() and p.suffix != ".ipynb" and not p.name.startswith(".")
        }

    def _instructor_cell_ids(self, nb, resources: dict) -> set[str] | None:
        """Ids of the instructor notebook's cells, or None when added cells cannot be told apart
        (no source configured or found, or a submission whose cell ids were lost)."""
        info = resources.get("nbgrader", {})
        if not self.source_root or not info.get("assignment"):
            return None
        path = Path(self.source_root) / info["assignment"] / f"{info.get('notebook')}.ipynb"
        try:
            ids = {cell.get("id") for cell in json.loads(path.read_text())["cells"]} - {None}
        except (OSError, ValueError, KeyError) as err:
            self.log.warning("Cannot read the instructor notebook %s (%s): cells added by students are skipped", path, err)
            return None
        plain = [c.get("id") for c in nb.cells if c.cell_type == "code" and not counts_for_grade(c)]
        if plain and not ids.intersection(plain):  # ids regenerated (an old notebook format): unknown
            return None
        return ids

    def added_by_student(self, cell: NotebookNode) -> bool:
        return (
            self._course_ids is not None
            and cell.cell_type == "code"
            and not counts_for_grade(cell)
            and cell.get("id") not in self._course_ids
        )

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        skipped = (not counts_for_grade(cell) and not self.added_by_student(cell)) or _grade_id(cell) in self.skip_cells
        if self.skip_walkthrough and skipped:
            if cell.source.strip():
                cell.outputs = [NotebookNode(output_type="stream", name="stdout", text=SKIPPED_NOTE)]
                cell.execution_count = None
            return cell, resources
        if self._restarts > self.max_kernel_restarts:
            cell.outputs = [_error("KernelDied", "not run: the kernel died too often in this notebook")]
            return cell, resources
        if time.monotonic() >= self._deadline:
            cell.outputs = [
                _error(
                    NOTEBOOK_TIMEOUT_ERROR,
                    f"not run: the notebook used up its time budget ({self.notebook_timeout} s, {NOTEBOOK_TIMEOUT_VARIABLE})",
                )
            ]
            cell.execution_count = None
            return cell, resources
        checked = self.test_integrity and is_test_cell(cell)
        original, marker, iopub_timeout = cell.source, "", self.iopub_timeout
        try:
            if checked:
                guarded = self._guard()
                marker = secrets.token_hex(16)
                cell.source = with_marker(original, marker)
            cell, resources = super().preprocess_cell(cell, resources, index)
        except CellTimeoutError as err:  # no output after the reply or the interrupt
            self.log.warning("Lost the output of cell %s: %s", index, str(err).splitlines()[0])
            cell.outputs.append(
                _error(
                    "OutputLost",
                    "the cell did not finish or its output was lost (interrupted after the time limit, or an overloaded machine)",
                )
            )
        except DeadKernelError:
            self.log.warning("Kernel died in cell %s; starting a new one and replaying", index)
            cell.outputs.append(_error("KernelDied", KERNEL_DIED))
            self._restarts += 1
            self._restart_and_replay()
            return cell, resources
        finally:
            cell.source, self.iopub_timeout = original, iopub_timeout
        if checked:
            self._check_ran_as_written(cell, marker, guarded)
        stuck = any(out.get("ename") in ("CellTimeoutError", "OutputLost") for out in cell.outputs)
        if not stuck:
            self._ran.append((index, cell))  # a replay must not sit through a timeout again
        elif not self._responsive(index):  # the loop swallowed the interrupt (except: pass)
            self.log.warning("Kernel ignored the interrupt after cell %s; starting a new one", index)
            self._restarts += 1
            self._restart_and_replay()
        return cell, resources

    def _check_ran_as_written(self, cell: NotebookNode, marker: str, guarded: bool) -> None:
        """A test cell that did not fail must have printed the marker, after a working guard."""
        printed = _strip_marker(cell.outputs, marker)
        failed = any(out.get("output_type") == "error" for out in cell.outputs)
        if failed or (printed and guarded):
            return
        why = (
            "the grader could not reset IPython's input transformers and tracers before it"
            if not guarded
            else "its last statement never ran, though it raised no error"
        )
        self.log.warning("Test cell %s did not run as written (%s)", _grade_id(cell), why)
        cell.outputs.append(
            _error(
                NOT_AS_WRITTEN,
                f"this test did not run as written ({why}): no points for it, and the notebook is marked for review",
            )
        )

    def _guard(self) -> bool:
        """Put IPython's transformers and the tracers back (see ``_GUARD``); whether it worked."""
        token = secrets.token_hex(16)
        code = _GUARD.replace("TOKEN", repr(token))
        expression = f"(lambda _ns: (exec({code!r}, _ns), _ns['ok'])[1])({{}})"

        async def ask():
            msg_id = self.kc.execute("", silent=True, store_history=False, user_expressions={"guard": expression})
            deadline = time.monotonic() + min(30, max(1, self._deadline - time.monotonic()))
            while (left := deadline - time.monotonic()) > 0:
                try:
                    reply = await self.kc.get_shell_msg(timeout=left)
                except Exception:  # queue.Empty on a timeout
                    return None
                if reply.get("parent_header", {}).get("msg_id") == msg_id:
                    return reply
            return None

        reply = run_sync(ask)()
        if reply is None:
            return False
        result = reply["content"].get("user_expressions", {}).get("guard", {})
        return result.get("status") == "ok" and token in result.get("data", {}).get("text/plain", "")

    def _responsive(self, index: int) -> bool:
        """Whether the kernel answers a trivial cell after an interrupted one."""
        probe = NotebookNode(cell_type="code", source="pass", metadata={}, outputs=[], execution_count=None)
        saved = self.iopub_timeout, self.timeout
        self.iopub_timeout, self.timeout = 5, self.probe_timeout
        try:
            self._run_aside(probe, index)
        except (CellTimeoutError, DeadKernelError):
            return False
        finally:
            self.iopub_timeout, self.timeout = saved
        return not any(out.get("ename") == "CellTimeoutError" for out in probe.outputs)

    async def _async_handle_timeout(self, timeout, cell=None):
        """nbclient's interrupt on a cell's time limit; then wait ``interrupt_grace`` seconds, not
        ``iopub_timeout``, for the kernel to go idle (restored by ``preprocess_cell``)."""
        reply = await super()._async_handle_timeout(timeout, cell)
        self.iopub_timeout = min(self.iopub_timeout, self.interrupt_grace)
        return reply

    def _run_aside(self, cell: NotebookNode, index: int) -> None:
        """Execute ``cell`` without it taking the place of the notebook's cell ``index``."""
        original = self.nb.cells[index]
        try:
            self.execute_cell(cell, index, store_history=False)
        finally:
            self.nb.cells[index] = original

    def _get_timeout(self, cell):
        """Tests and solutions get ``timeout``; locked instructor cells (setup) more; never more
        than what is left of the notebook's budget."""
        meta = cell.metadata.get("nbgrader", {}) if cell is not None else {}
        if meta.get("locked") and not meta.get("grade") and not meta.get("solution"):
            timeout = max(self.locked_cell_timeout, self.timeout or 0)
        else:
            timeout = super()._get_timeout(cell)
        if not hasattr(self, "_deadline"):
            return timeout
        left = max(1, math.ceil(self._deadline - time.monotonic()))
        return left if timeout is None else min(timeout, left)

    def _restart_and_replay(self) -> None:
        """A fresh kernel, brought to the state before the fatal cell (outputs discarded)."""
        run_sync(self.km.restart_kernel)(now=True)
        run_sync(self.kc.wait_for_ready)(timeout=self.startup_timeout)
        for index, cell in list(self._ran):
            scratch = copy.deepcopy(cell)
            scratch.outputs = []
            try:
                self._run_aside(scratch, index)
            except (CellTimeoutError, DeadKernelError):  # it died again while replaying: give up on this notebook
                self._restarts = self.max_kernel_restarts + 1
                return

    def output(self, outs, msg, display_id, cell_index):
        """Keep at most ``max_output_chars`` of a cell's output; drop the rest with a note."""
        if cell_index in self._capped:
            return None
        used = self._output_budget.get(cell_index, 0) + _output_chars(msg)
        self._output_budget[cell_index] = used
        out = super().output(outs, msg, display_id, cell_index)
        if self.max_output_chars >= 0 and used > self.max_output_chars:
            self._capped.add(cell_index)
            _truncate(outs, self.max_output_chars)
            outs.append(
                NotebookNode(
                    output_type="stream",
                    name="stdout",
                    text=f"\n[output truncated by the autograder: over {self.max_output_chars} characters]\n",
                )
            )
        return out


def _truncate(outs: list, limit: int) -> None:
    """Cut outputs in place so that their text adds up to at most ``limit`` characters."""
    kept, left = [], limit
    for out in outs:
        if out.get("output_type") == "stream":
            if left <= 0:
                continue
            out["text"] = out["text"][:left]
            left -= len(out["text"])
        elif out.get("output_type") in ("display_data", "execute_result"):
            size = sum(len(str(v)) for v in out.get("data", {}).values())
            if size > left:
                continue
            left -= size
        kept.append(out)
    outs[:] = kept


def _error(name: str, message: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=name, evalue=message, traceback=[f"{name}: {message}"])
