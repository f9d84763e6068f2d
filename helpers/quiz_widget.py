"""Clickable quiz questions: options as buttons, feedback at once, in JupyterLab and on the website.

``ask("q1")`` displays one question's answer buttons (or a number box) as an HTML output
with a small script. The script checks a click the way ``helpers.quiz.check`` does: it
normalises the answer, hashes it with the same salt (SHA-256) and compares with the stored
hash, so the page holds no answer in clear text. As with ``check``, this hides answers from a
casual look only: clicking every option is the same as guessing. Graded answers still go in
the notebook's variables (``q1 = "b"``); the widget never changes a grade.

The script runs wherever HTML outputs may run scripts: in JupyterLab and Notebook for outputs
produced in the session (trusted), on Colab, and on the Jupyter Book pages. It carries its
own SHA-256 because ``crypto.subtle`` exists only on https or localhost pages.
"""

from __future__ import annotations

import html

from .quiz import SALT, _expected_form, _spec

__all__ = ["ask"]

STYLE = (
    "<style>.tl-quiz{margin:.4em 0 1em;font-family:inherit}"
    ".tl-quiz button{margin:0 .3em .3em 0;padding:.2em .9em;border:1px solid #888;border-radius:4px;"
    "background:#f4f4f4;cursor:pointer;font:inherit}"
    ".tl-quiz button.tl-quiz-right{background:#d4edda;border-color:#2e7d32}"
    ".tl-quiz button.tl-quiz-wrong{background:#f8d7da;border-color:#c62828}"
    ".tl-quiz input{width:8em;margin-right:.3em;font:inherit}"
    ".tl-quiz-feedback{display:block;margin-top:.2em;font-weight:600}</style>"
)

# The buttons are practice; the graded answer is the notebook's variable (``q1 = ...``): the label and the
# "Correct." say so. (A click that set the variable would need a kernel, which the website has not.)
PRACTICE_LABEL = "Practice, not graded: "
PRACTICE_NOTE = "Practice only: to score it, set {question} in the cell below and run its check."

# The checker, shared by every widget (defined once per page). It mirrors helpers.quiz:
# normalise -> "SALT:question:canonical" -> SHA-256 hex; floats accept +-1 in the last decimal.
SCRIPT = r"""
(function () {
  if (!window.tlQuiz) {
    var K = [], H0 = [], i, n = 2;
    function frac(x) { return ((x - Math.floor(x)) * 4294967296) | 0; }
    while (K.length < 64) {
      var prime = true;
      for (i = 2; i * i <= n; i++) { if (n % i === 0) { prime = false; break; } }
      if (prime) { if (H0.length < 8) { H0.push(frac(Math.pow(n, 1 / 2))); } K.push(frac(Math.pow(n, 1 / 3))); }
      n++;
    }
    function sha256(text) {
      var bytes = Array.from(new TextEncoder().encode(text)), bitLength = bytes.length * 8;
      bytes.push(0x80);
      while (bytes.length % 64 !== 56) { bytes.push(0); }
      for (i = 7; i >= 0; i--) { bytes.push(i > 3 ? 0 : (bitLength >>> (i * 8)) & 255); }
      var h = H0.slice(), w = new Array(64);
      function rotr(x, r) { return (x >>> r) | (x << (32 - r)); }
      for (var off = 0; off < bytes.length; off += 64) {
        for (i = 0; i < 16; i++) {
          w[i] = (bytes[off + 4 * i] << 24) | (bytes[off + 4 * i + 1] << 16) | (bytes[off + 4 * i + 2] << 8) | bytes[off + 4 * i + 3];
        }
        for (i = 16; i < 64; i++) {
          var s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
          var s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
          w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
        }
        var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
        for (i = 0; i < 64; i++) {
          var t1 = (k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
          var t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
          k = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
        }
        h = [h[0] + a, h[1] + b, h[2] + c, h[3] + d, h[4] + e, h[5] + f, h[6] + g, h[7] + k].map(function (x) { return x | 0; });
      }
      return h.map(function (x) { return ("00000000" + (x >>> 0).toString(16)).slice(-8); }).join("");
    }
    function candidates(box, raw) {
      var kind = box.dataset.kind, text = String(raw).trim();
      if (kind === "choice" || kind === "bool") { return [text.toLowerCase()]; }
      text = text.replace(/[,_\s]/g, "");
      if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(text)) { return []; }
      var value = Number(text);
      if (!isFinite(value)) { return []; }
      if (kind === "int") { return Number.isInteger(value) ? [String(value)] : []; }
      var decimals = Number(box.dataset.decimals), unit = Math.pow(10, -decimals);
      return [0, -1, 1].map(function (step) { return (value + step * unit).toFixed(decimals); });
    }
    function answer(box, raw, button) {
      var found = candidates(box, raw), feedback = box.querySelector(".tl-quiz-feedback");
      var right = found.some(function (c) { return sha256(box.dataset.salt + ":" + box.dataset.question + ":" + c) === box.dataset.hash; });
      box.querySelectorAll("button").forEach(function (b) { b.classList.remove("tl-quiz-right", "tl-quiz-wrong"); });
      if (button) { button.classList.add(right ? "tl-quiz-right" : "tl-quiz-wrong"); }
      // A right click scores nothing: say so where the learner looks (the graded answer is the variable).
      feedback.textContent = right ? "Correct. " + box.dataset.practice : (found.length ? "Not yet. Hint: " + box.dataset.hint : "Not yet: answer with " + box.dataset.form + ".");
      feedback.style.color = right ? "#2e7d32" : "#c62828";
    }
    window.tlQuiz = { sha256: sha256, bind: function () {
      document.querySelectorAll(".tl-quiz:not([data-bound])").forEach(function (box) {
        box.setAttribute("data-bound", "1");
        box.querySelectorAll("button[data-answer]").forEach(function (button) {
          button.addEventListener("click", function () { answer(box, button.dataset.answer, button); });
        });
        var input = box.querySelector("input"), check = box.querySelector("button.tl-quiz-check");
        if (input && check) {
          check.addEventListener("click", function () { answer(box, input.value, null); });
          input.addEventListener("keydown", function (event) { if (event.key === "Enter") { answer(box, input.value, null); } });
        }
      });
    } };
  }
  window.tlQuiz.bind();
})();
"""


def widget_html(question_id: str) -> str:
    """The HTML (with its script) of one question's clickable answers."""
    spec = _spec(question_id)
    kind = spec["kind"]
    attributes = {
        "question": question_id,
        "kind": kind,
        "hash": spec["hash"],
        "salt": SALT,
        "hint": spec["hint"],
        "form": _expected_form(spec),
        "decimals": str(spec.get("decimals", 2)),
        "practice": PRACTICE_NOTE.format(question=question_id),
    }
    data = " ".join(f'data-{name}="{html.escape(value, quote=True)}"' for name, value in attributes.items())
    if kind == "choice":
        controls = "".join(f'<button type="button" data-answer="{o}">{o}</button>' for o in spec["options"])
    elif kind == "bool":
        controls = (
            '<button type="button" data-answer="true">True</button><button type="button" data-answer="false">False</button>'
        )
    else:
        controls = (
            f'<input type="text" inputmode="decimal" aria-label="answer to {question_id}">'
            '<button type="button" class="tl-quiz-check">Check</button>'
        )
    return (
        f'{STYLE}<div class="tl-quiz" {data}><span>{PRACTICE_LABEL}</span>{controls}'
        f'<span class="tl-quiz-feedback" role="status" aria-live="polite"></span></div>'
        f"<script>{SCRIPT}</script>"
    )


class QuizWidget:
    """Displays as the interactive widget in a notebook, as one line in plain text."""

    def __init__(self, question_id: str):
        self.question_id = question_id
        self._html = widget_html(question_id)

    def _repr_html_(self) -> str:
        return self._html

    def __repr__(self) -> str:
        return (
            f"Question {self.question_id}: clickable answers show where HTML outputs run (JupyterLab, Colab, the course website)."
        )


def ask(question_id: str) -> QuizWidget:
    """The clickable answers of a question; the last expression of a cell, it shows itself."""
    return QuizWidget(question_id)
