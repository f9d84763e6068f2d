"""Builds the course website (Jupyter Book 1.x) from the student notebooks, offline.

- ``notebooks``: execute each ``lessons/`` notebook in quick mode and clean its outputs
  (exercise stubs and grading cells lose theirs; any other error fails the build).
- ``costs``: the lesson table with measured CPU/GPU cost, read from ``bench/results``.
- ``build``: stage the site sources, run the two steps above, then ``jupyter-book build``.
- ``scan``: prove that no solution line, hidden test or traceback reached the HTML.

Run it with ``make book`` (``python -m coursebook``); the site lands in ``_build/html``.
"""
