"""Course tooling for maintainers and CI: repo paths, the one notebook runner, ``make course``.

Used by ``make course`` (``python -m coursetools``), the benchmark (``bench/``), the website
build (``coursebook/``) and the tests. Learners never import it: lessons use ``helpers`` only.
"""
