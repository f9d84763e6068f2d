"""The quiz's answer key: a salted SHA-256 of each right answer (``helpers.quiz`` explains the salt).

Kept apart from the questions so that a graded class's learner distribution can ship without it:
``python -m coursetools.learner_dist --flavour graded`` replaces this file with one whose
``ANSWER_HASHES`` is None, and the quiz then records answers without judging them.
"""

from __future__ import annotations

__all__: list[str] = []  # the key is data for helpers.quiz, never used directly

# question id -> hash of the right answer (``helpers.quiz.make_question`` prints a new entry)
ANSWER_HASHES: dict[str, str] | None = {
    "q1": "6d3c7aae4ae4d1e0d50afc2b167d118e413943e5627f0f4ac508771202e27c14",
    "q2": "4c99a35017f898f12adcff20fc8f50d75729f073994ef6362c0f982c88111028",
    "q3": "d771811d97d52932185ef33819aa43a22cf6daf1b1f3793f368b58d6cd815c4b",
    "q4": "1d94da2bb48fc7cc434fc20196aee05c6185ff09b461e47ed521883a6ac0852d",
    "q5": "977004dad56ce7b17b646e9117039dd9e734e4144c800e17e7bba90698524d5a",
    "q6": "c1653f297dd907f5f4dcfc5c271e09fa2bf4b80219219d06752c65371eb317f8",
    "q7": "33113b4c0afd30d39b0d4cd22c164d351d9a2ac74ef0edde21ad00f497fe263d",
    "q8": "f08b21580fbef09534fcdedc88fc8a932bdf87db72a5c9456a8efbe2af4a51ed",
    "q9": "1e87aaf2eb28c2d4eb99031414e8fad278ae1cb653d15fbd9e6189509a644b67",
    "q10": "0b8978ac87271c072524b41462c3636bc832adcaacd9efdc65fcb5bbebd9264e",
    "q11": "b3c60bb91c9fdbccf18fd8c0def3bcdeec996f256bd17b12da7e4af83c2a0245",
    "q12": "e8779b9f0f5929a80af01d723776a45837e5b9afaebf6d605eb12ae21d0888ab",
    "q13": "94e9164cfdc4a97188c7781d12e018d65f61a1c5f3d48699ae2d13e3f6df62c9",
    "q14": "00626bfc39f0299001722d1105ffea84c313aa4336690133cacf726eb4c59c50",
    "q15": "cf5e403f43880bbdf87bb60f768e3d54348092462ff5f55a67def0dce1166069",
}
