"""Synthetic corpora whose structure is known by construction."""

from __future__ import annotations

import random


def planted_corpus(n_sentences: int = 6000, groups: int = 4, members: int = 4, contexts: int = 3,
                   pairs: int = 4, seed: int = 0) -> tuple[list[list[str]], dict]:
    """Sentences with two planted relations.

    * Substitutes: each group has ``members`` words that fill the same slot
      between the group's ``contexts`` words and never appear together; so
      IN-IN neighbours of a member should be its group mates, and its IN-OUT
      neighbours the group's context words.
    * Co-occurrence: topic pairs (``t{i}a``, ``t{i}b``) always appear side by side
      (a then b) between fillers; so ``t{i}a``'s IN-OUT neighbour is ``t{i}b``.
    """
    rng = random.Random(seed)
    fill = [f"f{i}" for i in range(40)]
    truth = {"groups": [], "contexts": [], "pairs": []}
    for g in range(groups):
        truth["groups"].append([f"g{g}m{m}" for m in range(members)])
        truth["contexts"].append([f"g{g}c{c}" for c in range(contexts)])
    truth["pairs"] = [(f"t{i}a", f"t{i}b") for i in range(pairs)]
    sentences = []
    for _ in range(n_sentences):
        if rng.random() < 0.6:
            g = rng.randrange(groups)
            ctx = truth["contexts"][g]
            left, right = rng.sample(ctx, 2)
            sent = [rng.choice(fill), left, rng.choice(truth["groups"][g]), right, rng.choice(fill)]
        else:
            a, b = rng.choice(truth["pairs"])
            sent = [rng.choice(fill), rng.choice(fill), a, b, rng.choice(fill), rng.choice(fill)]
        sentences.append(sent)
    return sentences, truth


def topical_corpus(n_sentences: int = 4000, topics: int = 5, seed: int = 0) -> tuple[list[list[str]], dict]:
    """Embedding training text where each topic's name word co-occurs with its
    topic words (``name{t}x`` with ``topic{t}w{i}x``) amid filler words.

    Every word ends in ``x``, which no English stemmer strips, so stemmed BM25
    keeps the words apart (``named``, ``namee`` would both stem to ``name``)."""
    rng = random.Random(seed)
    fill = [f"filler{chr(97 + i)}x" for i in range(20)]
    names = [f"name{chr(97 + t)}x" for t in range(topics)]
    words = [[f"topic{chr(97 + t)}w{chr(97 + i)}x" for i in range(5)] for t in range(topics)]
    sentences = []
    for _ in range(n_sentences):
        t = rng.randrange(topics)
        sent = [names[t]] + rng.sample(words[t], 3) + rng.sample(fill, 3)
        rng.shuffle(sent)
        sentences.append(sent)
    return sentences, {"names": names, "words": words, "fill": fill}


def saved_topical_index(root):
    """:func:`topical_model_and_docs`, with the model saved at ``root/model`` and a ranker index of
    the documents (stop words kept) at ``root/idx``."""
    from dualvec.ranking import Ranker

    model, truth, docs = topical_model_and_docs()
    model.save(root / "model")
    Ranker(model, stopwords=None).index(docs).save(root / "idx")
    return model, truth, docs


def topical_model_and_docs():
    """A skip-gram model of :func:`topical_corpus` and, per topic, a document on the topic that
    never names it (``about{t}``) and one that names it and says nothing else (``names{t}``)."""
    import dualvec

    sents, truth = topical_corpus()
    model = dualvec.train(sents, sg=True, window=4, sample=0, min_count=1, epochs=8, vector_size=24, workers=1,
                          progress=False)
    docs = {}
    for t, ws in enumerate(truth["words"]):
        docs[f"about{t}"] = " ".join(ws[:4] + truth["fill"][:2])
        docs[f"names{t}"] = " ".join([truth["names"][t]] + truth["fill"][2:6])
    return model, truth, docs


def topical_collection(n_docs: int = 120, topics: int = 5, seed: int = 1) -> tuple[dict[str, str], dict]:
    """Documents of :func:`topical_corpus`'s words, each on one topic (``doc{i}`` is on topic
    ``i % topics``): several of its sentences, joined; enough text to train a small model on."""
    sents, truth = topical_corpus(n_sentences=n_docs * 6, topics=topics, seed=seed)
    by_topic: dict[int, list[list[str]]] = {t: [] for t in range(topics)}
    for s in sents:
        by_topic[next(t for t, name in enumerate(truth["names"]) if name in s)].append(s)
    docs = {f"doc{i}": " ".join(" ".join(s) for s in by_topic[i % topics][(i // topics) * 6:(i // topics + 1) * 6])
            for i in range(n_docs)}
    return {d: t for d, t in docs.items() if t}, truth
