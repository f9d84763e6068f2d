"""The quiz's answer key: a salted SHA-256 of each right answer (``helpers.quiz`` explains the salt).

Kept apart from the questions so that a graded class's learner distribution can ship without it:
``python -m coursetools.learner_dist --flavour graded`` replaces this file with one whose
``ANSWER_HASHES`` is None, and the quiz then records answers without judging them.
"""

from __future__ import annotations

__all__: list[str] = []  # the key is data for helpers.quiz, never used directly

# question id -> hash of the right answer (``helpers.quiz.make_question`` prints a new entry)
ANSWER_HASHES: dict[str, str] | None = {
    "q1": "6b7ad2773093cb2caa930fa5ab786ed0fa7228968ab107c1767937e49118f004",
    "q2": "4c99a35017f898f12adcff20fc8f50d75729f073994ef6362c0f982c88111028",
    "q3": "d771811d97d52932185ef33819aa43a22cf6daf1b1f3793f368b58d6cd815c4b",
    "q4": "1d94da2bb48fc7cc434fc20196aee05c6185ff09b461e47ed521883a6ac0852d",
    "q5": "977004dad56ce7b17b646e9117039dd9e734e4144c800e17e7bba90698524d5a",
    "q6": "c1653f297dd907f5f4dcfc5c271e09fa2bf4b80219219d06752c65371eb317f8",
    "q7": "411ab5e62747a41d75f2b5220c8c788380154eb86dd624fd0bd7d0d6f34c1506",
    "q8": "51e1980199aba57a4290fdabd42038ffa124f25b2a296a04e06358af43b09f34",
    "q9": "1e87aaf2eb28c2d4eb99031414e8fad278ae1cb653d15fbd9e6189509a644b67",
    "q10": "0b8978ac87271c072524b41462c3636bc832adcaacd9efdc65fcb5bbebd9264e",
    "q11": "b6a332238234f535b7b1cbb4645a0af69e9146ac63cb4796096e63dff20e9a7b",
    "q12": "e8779b9f0f5929a80af01d723776a45837e5b9afaebf6d605eb12ae21d0888ab",
    "q13": "94e9164cfdc4a97188c7781d12e018d65f61a1c5f3d48699ae2d13e3f6df62c9",
    "q14": "cc6ccfbc28481f49cb1430da136974650067ce66d0d6e0c3f6732fe17c156609",
    "q15": "f88f51e6102a0760ab36424124c03fea8b93de08d567f396a7df04a035e3658c",
}
