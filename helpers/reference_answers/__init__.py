"""The course's reference answers to the walkthrough's "your turn" cells, one module per lesson.

``helpers.your_turn.check`` calls one of these only when a learner's cell is missing or wrong, so that
the lesson goes on (and says so). They are the lines the walkthrough asks the learner to write: the
walkthrough keeps them in view as the learner's own cell, and these copies are the safety net, not a
place that hides the lesson's code. A graded class's learner distribution ships each module with
functions that raise ``NotImplementedError`` instead (``coursetools``' learner distribution).

Each module's functions take what the lesson's cell has in scope (sizes, models) and return what the
cell defines.
"""

__all__: list[str] = []
