"""Word-similarity and analogy benchmarks over any pairing of the spaces.

The file formats are those gensim ships and reads: word-pair files
(``wordsim353.tsv``, ``simlex999.txt``: ``word1<TAB>word2<TAB>score``, ``#``
comments) and the analogy file ``questions-words.txt`` (``: section`` lines,
then ``a b c d``). Words are lowercased, as gensim's ``case_insensitive``
default does. Pairs and questions with a word outside the vocabulary are
skipped and counted, as in gensim's ``evaluate_word_pairs`` /
``evaluate_word_analogies``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..errors import DualvecError, finite_number
from ..model import DualVectors


@dataclass
class SimilarityResult:
    spearman: float  # NaN when undefined
    pairs: int  # pairs evaluated
    skipped: int  # pairs with an unknown word
    undefined: str = ""  # why Spearman's rho is undefined (scores that do not vary), else ""


@dataclass
class AnalogyResult:
    accuracy: float  # correct / evaluated
    correct: int
    evaluated: int
    unknown: int  # questions with a word the model does not know
    restricted: int  # questions whose words it knows, one of them outside the restricted vocabulary
    sections: dict[str, tuple[int, int]]  # section -> (correct, evaluated)

    @property
    def skipped(self) -> int:
        """Questions not evaluated, for either reason."""
        return self.unknown + self.restricted


def _ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties given their average rank."""
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x), dtype=np.float64)
    ranks[order] = np.arange(1, len(x) + 1)
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return (sums / counts)[inverse]


def spearman(a, b) -> float:
    """Spearman's rank correlation (Pearson on average ranks)."""
    ra, rb = _ranks(np.asarray(a, dtype=np.float64)), _ranks(np.asarray(b, dtype=np.float64))
    ra -= ra.mean()
    rb -= rb.mean()
    denom = np.sqrt((ra**2).sum() * (rb**2).sum())
    return float((ra * rb).sum() / denom) if denom > 0 else float("nan")


def _lines(path: str | os.PathLike) -> list[str]:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read().splitlines()
    except OSError as exc:
        raise DualvecError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise DualvecError(f"{path} is not valid UTF-8") from None


def word_similarity(model: DualVectors, path: str | os.PathLike, *, space: str = "in-in") -> SimilarityResult:
    """Spearman correlation of model cosines with human scores in a word-pair file."""
    human, ours, skipped = [], [], 0
    qspace, cspace = model.space_pair(space)
    for line in _lines(path):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) < 3:
            raise DualvecError(f"{path}: expected 'word1<TAB>word2<TAB>score', got {line[:60]!r}")
        a, b = parts[0].lower(), parts[1].lower()
        score = finite_number(parts[2].strip(), f"{path}: score")
        if a not in qspace or b not in cspace:
            skipped += 1
            continue
        human.append(score)
        ours.append(float(qspace.unit[qspace.get_index(a)] @ cspace.unit[cspace.get_index(b)]))
    if len(human) < 2:
        raise DualvecError(f"{path}: fewer than 2 pairs have both words in the vocabulary")
    return SimilarityResult(spearman(human, ours), len(human), skipped, _undefined(human, ours))


def _undefined(human: list[float], ours: list[float]) -> str:
    """Why Spearman's rho of these scores is undefined (a correlation with a constant has no
    value: its ranks do not vary), or ""."""
    if len(set(human)) == 1:
        return f"the human scores of the {len(human)} pairs are all {human[0]:g}, and a correlation needs them to vary"
    if len(set(ours)) == 1:
        return f"the model's cosines of the {len(ours)} pairs are all {ours[0]:g}, and a correlation needs them to vary"
    return ""


#: gensim's ``evaluate_word_analogies`` default: questions with a word outside the 300,000 most frequent
#: words are skipped.
RESTRICT_VOCAB = 300_000


def analogy_accuracy(model: DualVectors, path: str | os.PathLike, *, restrict_vocab: int | None = RESTRICT_VOCAB,
                     space: str = "in-in", batch_size: int = 256) -> AnalogyResult:
    """Accuracy on ``a : b :: c : ?`` questions, answered by 3CosAdd as gensim does.

    The answer is the word, among the ``restrict_vocab`` most frequent (``None``: every word) and
    other than a, b, c, whose unit vector is most similar to ``b - a + c`` (unit rows). Questions
    with a word outside those are skipped, as gensim does, and counted apart from questions with a
    word the model does not know at all.
    """
    qspace, cspace = model.space_pair(space)
    limit = len(model) if restrict_vocab is None else min(restrict_vocab, len(model))
    index = model.vocab.index
    questions: list[tuple[int, int, int, int]] = []
    section_of: list[str] = []
    unknown = restricted = 0
    section = ""
    for line in _lines(path):
        if line.startswith(":"):
            section = line[1:].strip()
            continue
        parts = line.lower().split()
        if not parts:
            continue
        if len(parts) != 4:
            raise DualvecError(f"{path}: expected 4 words per question, got {line[:60]!r}")
        rows = [index.get(w) for w in parts]
        if any(r is None for r in rows):
            unknown += 1
            continue
        if any(r >= limit for r in rows):
            restricted += 1
            continue
        questions.append(tuple(rows))  # type: ignore[arg-type]
        section_of.append(section)
    if not questions:
        raise DualvecError(f"{path}: no question has all four words among the {limit:,} most frequent "
                           f"({unknown:,} have a word the model does not know, {restricted:,} one outside them)")
    q = np.array(questions, dtype=np.int64)
    qu, cu = qspace.unit[:limit], cspace.unit[:limit]
    hits = np.zeros(len(q), dtype=bool)
    for lo in range(0, len(q), batch_size):
        b = q[lo : lo + batch_size]
        target = qu[b[:, 1]] - qu[b[:, 0]] + qu[b[:, 2]]
        scores = target @ cu.T
        rows = np.arange(len(b))
        for col in range(3):
            scores[rows, b[:, col]] = -np.inf
        hits[lo : lo + len(b)] = scores.argmax(axis=1) == b[:, 3]
    sections: dict[str, tuple[int, int]] = {}
    for name, hit in zip(section_of, hits):
        c, n = sections.get(name, (0, 0))
        sections[name] = (c + int(hit), n + 1)
    return AnalogyResult(float(hits.mean()), int(hits.sum()), len(q), unknown, restricted, sections)
