"""nbgrader configuration of the course (read by `nbgrader ...` run from the repo root).

Instructor sources live in solutions/NAME/NAME.ipynb; `make lessons` (nbgrader
generate_assignment) writes the student versions to lessons/NAME/NAME.ipynb.
"""

import os
import sys

c = get_config()  # noqa: F821 - provided by nbgrader

c.CourseDirectory.course_id = "transfer-learning-cv"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "lessons"
c.CourseDirectory.submitted_directory = "nbgrader/submitted"
c.CourseDirectory.autograded_directory = "nbgrader/autograded"
c.CourseDirectory.feedback_directory = "nbgrader/feedback"
c.CourseDirectory.db_url = "sqlite:///nbgrader/gradebook.db"

# Stubs say what to do; they raise so a forgotten exercise fails loudly, not silently.
c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE\nraise NotImplementedError()",
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# The walkthrough's "your turn" cells (tag your-turn) get a stub that does not raise, so Run All goes on
# past them (helpers/your_turn.py): nbgrader's own list, with that ClearSolutions in place of nbgrader's.
c.GenerateAssignment.preprocessors = [
    "nbgrader.preprocessors.IncludeHeaderFooter",
    "nbgrader.preprocessors.InstantiateTests",
    "nbgrader.preprocessors.LockCells",
    "coursetools.your_turn_stub.ClearSolutionsKeepingYourTurn",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.CheckCellMetadata",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.SaveCells",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbgrader.preprocessors.ClearMarkScheme",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# Grading runs are small (notebooks see NBGRADER_EXECUTION and use quick mode); a runaway
# cell is cut after this many seconds and the rest of the notebook still runs.
c.Execute.timeout = 300
c.Execute.interrupt_on_timeout = True

# A stray line on stderr zeroes a test cell. Lessons silence Python warnings in their locked
# setup cells; TensorFlow's C++ log lines (absl format, e.g. "W0000 00:00:...") are dropped here.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"^[IWE]\d{4} \d\d:\d\d:\d\d"

# Autograding runs only the cells that can change a grade (locked, solution and test cells),
# bounds each cell's time (TL_COURSE_CELL_TIMEOUT, default 60 s), the notebook's
# (TL_COURSE_NOTEBOOK_TIMEOUT, default 600 s) and output, checks that tests ran as written, and
# survives a student's os._exit(): see autograder/execute.py. Each kernel runs in the bwrap
# sandbox (autograder/sandbox.py) however grading starts: make grade, python -m autograder,
# nbgrader autograde or formgrader, all through this file. Validate keeps nbgrader's Execute.
# autograder/ sits beside this file and is not pip-installed (learners install only helpers).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    from autograder.execute import cell_timeout  # noqa: E402
except ModuleNotFoundError:  # a copy of this file in a scratch course (tests): nothing is graded there

    def cell_timeout() -> int:
        return 60


c.Autograde.autograde_preprocessors = [
    "autograder.execute.GradedCellsExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "autograder.sanitize.SanitizeOutputs",  # no student script in formgrader or the feedback
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.GradedCellsExecute.timeout = cell_timeout()
# Locked cells that only inform the learner (Colab install, the lesson's cost and downloads
# table: ~7 s of imports on a loaded machine); tests never use their names.
c.GradedCellsExecute.skip_cells = ["colab_install", "cost"]
# cells a student added (not in the instructor's notebook) run with the graded ones
c.GradedCellsExecute.source_root = os.path.join(c.CourseDirectory.root, c.CourseDirectory.source_directory)
# A deleted test cell is put back from the gradebook and run (its points are not simply lost).
c.OverwriteCells.add_missing_cells = True
