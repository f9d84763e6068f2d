"""nbgrader's ClearSolutions, with a stub that does not raise in the walkthrough's "your turn" cells.

An exercise's stub raises ``NotImplementedError`` so that a forgotten exercise fails loudly. A
your-turn cell (tag ``your-turn``) sits inside the walkthrough, and *Run All* must go on past it:
its stub is a comment, the cell keeps its first line (``name = None``), and the check cell after it
goes on with the reference answer (``helpers.your_turn``). ``nbgrader_config.py`` puts this class in
``GenerateAssignment.preprocessors`` in place of nbgrader's.
"""

from __future__ import annotations

from nbgrader.preprocessors import ClearSolutions

__all__ = ["YOUR_TURN_TAG", "YOUR_TURN_STUB", "ClearSolutionsKeepingYourTurn"]

YOUR_TURN_TAG = "your-turn"
YOUR_TURN_STUB = "# YOUR CODE HERE (left as it is, the next cell goes on with the course's reference answer)"


class ClearSolutionsKeepingYourTurn(ClearSolutions):
    """ClearSolutions; in cells tagged ``your-turn`` the solution region becomes a comment, not a ``raise``."""

    def _replace_solution_region(self, cell, language):
        if cell.cell_type != "code" or YOUR_TURN_TAG not in cell.metadata.get("tags", []):
            return super()._replace_solution_region(cell, language)
        exercise_stub = self.code_stub
        self.code_stub = {**exercise_stub, language: YOUR_TURN_STUB}
        try:
            return super()._replace_solution_region(cell, language)
        finally:
            self.code_stub = exercise_stub
