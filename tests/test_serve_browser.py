"""The explorer in a real browser: Debian's chromium driven by Playwright, against a real server.

Skipped, with the reason, where chromium or Playwright is missing (``.ci/run`` installs both).
Screenshots of each view go to the test's temporary directory, or to ``$DUALVEC_SCREENSHOTS``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = Path("/usr/bin/chromium")
playwright = pytest.importorskip("playwright.sync_api", reason="playwright (dev dependency) is not installed")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (.ci/run installs it with apt-get)", allow_module_level=True)

import dualvec  # noqa: E402
from dualvec.ranking import Ranker  # noqa: E402
from helpers import running_server  # noqa: E402
from dualvec.ranking.in_domain import IN_DOMAIN  # noqa: E402
from synthetic import topical_corpus, topical_model_and_docs  # noqa: E402

VIEWS = ("word", "map", "text", "search", "projector", "model")


def _colour(style: str) -> tuple[str, float]:
    """The rgb triple and the alpha of a shaded word's background."""
    m = re.search(r"rgba\(([\d\s,]+),\s*([\d.]+)\)", style)
    return m.group(1).replace(" ", ""), float(m.group(2))


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """A model at root/model and an index of it at root/idx, with an in-domain model beside the
    index's own (as ``dualvec index`` trains one), whose DESM the ranking mixes in."""
    root = tmp_path_factory.mktemp("browser")
    model, _, docs = topical_model_and_docs()
    model.save(root / "model")
    sents, _ = topical_corpus(n_sentences=600, seed=3)
    domain = dualvec.train(sents, sg=True, min_count=1, epochs=2, vector_size=12, workers=1, seed=1, progress=False)
    Ranker(model, stopwords=None).index(docs, extra_models={IN_DOMAIN: domain}).save(root / "idx")
    return root


@pytest.fixture(scope="module")
def site(root):
    _, truth = topical_corpus()
    shots = Path(os.environ.get("DUALVEC_SCREENSHOTS") or root / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    with running_server(root / "model", root / "idx") as base:
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            yield page, base, Ranker.load(root / "idx"), truth, shots
            browser.close()


def test_typing_a_word_shows_its_real_neighbours_in_four_columns(site):
    page, base, ranker, truth, shots = site
    page.goto(f"{base}/#word")
    word = truth["names"][0]
    page.fill("#word-input", word)
    page.click("#word-form button")
    page.wait_for_selector(".column[data-space='out-out'] li")
    for space in ("in-in", "in-out", "out-in", "out-out"):
        shown = page.locator(f".column[data-space='{space}'] a.neighbor").all_inner_texts()
        assert shown == [w for w, _ in ranker.model.most_similar(word, space=space, topn=10)], space
    page.screenshot(path=str(shots / "word.png"), full_page=True)
    # a neighbour is a link: clicking it goes there
    first = page.locator(".column[data-space='in-in'] a.neighbor").first
    target = first.inner_text()
    first.click()
    page.wait_for_function("w => document.querySelector('#word-input').value === w", arg=target)
    page.wait_for_selector(".column[data-space='in-in'] li")
    assert page.locator(".column[data-space='in-in'] a.neighbor").first.inner_text() == \
        ranker.model.most_similar(target, space="in-in", topn=1)[0][0]


def test_an_unknown_word_says_so_in_the_page(site):
    page, base, *_ = site
    page.goto(f"{base}/#word=zzzzqq")
    page.wait_for_selector("#status.error")
    assert "not in vocabulary" in page.inner_text("#status")


def test_the_text_view_shades_words_by_their_cosine_with_the_query(site):
    page, base, ranker, truth, shots = site
    m = ranker.model
    q = truth["names"][2]
    passage = " ".join(truth["words"][2][:3] + truth["fill"][:3] + truth["words"][4][:2])
    page.goto(f"{base}/#text")
    page.fill("#text-query", q)
    page.fill("#text-passage", passage)
    page.click("#text-form button")
    page.wait_for_selector("#shade-in-out .tok")
    qv = m.in_vectors.unit[m.vocab.index[q]]
    for space, other in (("in-out", m.out_vectors), ("in-in", m.in_vectors)):
        toks = page.locator(f"#shade-{space} .tok")
        words = page.locator(f"#shade-{space} .tok .w").all_inner_texts()
        assert words == passage.split()
        cos = [float(toks.nth(i).get_attribute("data-cos")) for i in range(len(words))]
        assert cos == pytest.approx([float(qv @ other.unit[m.vocab.index[w]]) for w in words], abs=1e-4)
        # the strongest red for the most related word (none of these is the query word)
        colours = [_colour(toks.nth(i).get_attribute("style")) for i in range(len(words))]
        red = [a if rgb == "214,39,40" else -1.0 for rgb, a in colours]
        assert np.argmax(red) == np.argmax(cos) and max(red) == pytest.approx(0.8)
    page.screenshot(path=str(shots / "text.png"), full_page=True)


def test_a_search_ranks_as_dualvec_search_does_and_opens_a_document(site):
    page, base, ranker, truth, shots = site
    q = f"{truth['names'][3]} {truth['words'][3][4]}"
    page.goto(f"{base}/#search")
    page.fill("#search-input", q)
    page.click("#search-form button")
    page.wait_for_selector("#results li")
    shown = [li.get_attribute("data-doc") for li in page.locator("#results li").all()]
    assert shown == [d for d, _ in ranker.search(q, 10)]
    page.screenshot(path=str(shots / "search.png"), full_page=True)
    # title and text apart (no ".." join), the link names the document by its id
    first = page.locator("#results li").first
    assert "id " + shown[0] in first.locator(".doc-id").inner_text()
    assert f"doc={shown[0]}" in first.locator("a.doc-link").get_attribute("href")
    first.locator("a.doc-link").click()
    page.wait_for_selector("#shade-in-out .tok")
    assert page.input_value("#text-passage") == ranker.texts[int(ranker.rows([shown[0]])[0])]
    assert page.inner_text("#bm25")
    # the controls change the ranking as the ranker would: k, the DESM weight, mode, space
    page.goto(f"{base}/#search")
    page.fill("#search-input", q)
    page.fill("#search-k", "4")
    page.fill("#search-weight", "0.9")
    page.select_option("#search-mode", "full")
    page.select_option("#search-space", "in-in")
    page.click("#search-form button")
    page.wait_for_function("() => document.querySelectorAll('#results li').length === 4")
    shown = [li.get_attribute("data-doc") for li in page.locator("#results li").all()]
    assert shown == [d for d, _ in ranker.search(q, 4, mode="full", alpha=0.9, space="in-in")]
    assert "0.9 × DESM" in page.inner_text("#search-meta")


def test_the_map_and_model_views_draw(site):
    page, base, ranker, truth, shots = site
    page.goto(f"{base}/#map={truth['names'][1]}")
    page.wait_for_selector(".map[data-space='in-out'] circle")
    assert page.locator(".map[data-space='in-in'] circle").count() == 16
    page.fill("#map-topn", "6")
    page.click("#map-form button")
    page.wait_for_function("() => document.querySelectorAll(\".map[data-space='in-in'] circle\").length === 7")
    page.screenshot(path=str(shots / "map.png"), full_page=True)
    page.goto(f"{base}/#model")
    page.wait_for_selector("#loss-plot .loss-point")
    losses = [float(c.get_attribute("data-loss")) for c in page.locator("#loss-plot .loss-point").all()]
    assert losses == pytest.approx([h.loss for h in ranker.model.history])
    page.screenshot(path=str(shots / "model.png"), full_page=True)


def _typical(m, q, space):
    """The query's mean cosine with a token of the model's corpus (each word weighted by its count)."""
    cos = m.space(space.split("-")[1]).unit @ m.in_vectors.unit[m.vocab.index[q]]
    counts = m.vocab.counts.astype(np.float64)
    return float(counts @ cos / counts.sum())


def test_each_text_panel_is_centred_on_the_typical_cosine_and_shows_the_cosines(site):
    page, base, ranker, truth, shots = site
    q = truth["names"][1]
    # its topic's words (positive IN-IN), filler and another topic (lower, some negative)
    passage = " ".join(truth["words"][1][:3] + truth["fill"][:4] + truth["words"][3][:3] + [q])
    page.goto(f"{base}/#text")
    page.fill("#text-query", q)
    page.fill("#text-passage", passage)
    page.click("#text-form button")
    page.wait_for_selector("#shade-in-in .tok")
    for space in ("in-out", "in-in"):
        toks = page.locator(f"#shade-{space} .tok")
        rows = [(toks.nth(i).locator(".w").inner_text(), float(toks.nth(i).get_attribute("data-cos")),
                 toks.nth(i).locator(".n").inner_text(), toks.nth(i).get_attribute("style"))
                for i in range(toks.count())]
        # the legend states the scale: white at the typical cosine for this model (the query's mean cosine
        # with a word of its corpus), red up to the most related non-query word, blue down to the least
        legend = page.locator(f"#legend-{space}")
        centre, lo, hi = (float(legend.get_attribute(f"data-{k}")) for k in ("centre", "lo", "hi"))
        assert centre == pytest.approx(_typical(ranker.model, q, space), abs=2e-5)
        others = [c for w, c, _, _ in rows if w != q]
        assert (lo, hi) == (pytest.approx(min(others), abs=1e-6), pytest.approx(max(others), abs=1e-6))
        assert lo < centre < hi, (space, lo, centre, hi)  # both sides to show
        assert legend.locator(".mid").inner_text() == f"{centre:.3f}" and "typical" in legend.inner_text()
        assert legend.locator(".lo").inner_text() == f"{lo:.3f}" and legend.locator(".hi").inner_text() == f"{hi:.3f}"
        for word, c, shown, style in rows:
            assert float(shown) == pytest.approx(c, abs=0.006)  # the number is on the page, not only on hover
            rgb, alpha = _colour(style)
            assert rgb == ("214,39,40" if c >= centre else "31,119,180"), (word, c, rgb)  # red above typical
            side = (hi - centre) if c >= centre else (centre - lo)
            assert alpha == pytest.approx(0.8 * min(1.0, abs(c - centre) / side), abs=2e-3)
        # the most related word gets the strongest red
        red = {w: _colour(st)[1] for w, c, _, st in rows if w != q and c >= centre}
        assert max(red, key=red.get) == max(((w, c) for w, c, _, _ in rows if w != q), key=lambda x: x[1])[0]
        # DESM explained: each query word's cos(q, D̄), whose mean is the score shown
        parts = [float(x.get_attribute("data-cos")) for x in page.locator(f"#desm-terms-{space} .contrib").all()]
        assert len(parts) == 1 and float(page.inner_text(f"#desm-{space}")) == pytest.approx(np.mean(parts), abs=1e-3)
    assert "co-occurrence" in page.inner_text("#view-text .hint")


def test_both_map_panels_share_one_projection(site):
    page, base, ranker, truth, shots = site
    word = truth["names"][2]
    page.goto(f"{base}/#map={word}&k=12")
    page.wait_for_function("w => [...document.querySelectorAll('.map circle')].filter(c => c.dataset.word === w).length"
                           " === 2 && document.querySelectorAll('.map circle').length === 26", arg=word)

    def points(space):
        return {c.get_attribute("data-word"): (float(c.get_attribute("cx")), float(c.get_attribute("cy")))
                for c in page.locator(f".map[data-space='{space}'] circle").all()}

    a, b = points("in-in"), points("in-out")
    assert len(a) == len(b) == 13 and word in a
    widths = {page.locator(f".map[data-space='{s}'] svg").get_attribute("data-width") for s in ("in-in", "in-out")}
    assert len(widths) == 1
    shared = set(a) & set(b)
    assert shared >= {word}
    for w in shared:
        assert a[w] == pytest.approx(b[w], abs=0.01), w
    # hover shows a tooltip; the wheel zooms both panels together
    page.hover(f".map[data-space='in-in'] circle[data-word='{word}']")
    assert word in page.inner_text(".map[data-space='in-in'] .tip")
    page.mouse.wheel(0, -300)  # zooms in around the pointer, which is on the query word
    page.wait_for_timeout(200)
    a2, b2 = points("in-in"), points("in-out")
    assert a2[word] == pytest.approx(b2[word], abs=0.01)
    def spread(pts):
        return max(x for x, _ in pts.values()) - min(x for x, _ in pts.values())

    assert len(a2) < len(a) or spread(a2) > 1.3 * spread(a)
    # labels do not overlap one another
    for space in ("in-in", "in-out"):
        boxes = [t.bounding_box() for t in page.locator(f".map[data-space='{space}'] .labels text").all()]
        for i, p in enumerate(boxes):
            for q in boxes[i + 1:]:
                assert not (p["x"] < q["x"] + q["width"] - 1 and q["x"] < p["x"] + p["width"] - 1 and
                            p["y"] < q["y"] + q["height"] - 1 and q["y"] < p["y"] + p["height"] - 1), space


def test_the_projector_draws_both_spaces_and_highlights_a_search(site):
    page, base, ranker, truth, shots = site
    word = truth["names"][0]
    page.goto(f"{base}/#projector={word}&n=30")
    page.wait_for_selector("#projector circle.mark")
    circles = page.locator("#projector circle")
    assert circles.count() == 60  # 30 words, IN and OUT
    spaces = [c.get_attribute("data-space") for c in circles.all()]
    assert spaces.count("in") == spaces.count("out") == 30
    marked = {(c.get_attribute("data-word"), c.get_attribute("data-space")) for c in page.locator("#projector circle.mark").all()}
    assert marked == {(word, "in"), (word, "out")}
    page.screenshot(path=str(shots / "projector.png"), full_page=True)


def _state(page, view):
    """What a view shows: its inputs, and the first lines of its results."""
    inputs = {
        "word": ["#word-input", "#word-plus", "#word-minus", "#word-topn"], "map": ["#map-input", "#map-topn"],
        "text": ["#text-query", "#text-passage", "#text-doc"],
        "search": ["#search-input", "#search-k", "#search-weight", "#search-mode", "#search-space"],
        "projector": ["#projector-find", "#projector-method", "#projector-n"], "model": []}[view]
    results = {"word": ".column a.neighbor", "map": ".map circle", "text": "#shade-in-out .tok", "search": "#results li",
               "projector": "#projector circle.mark", "model": "#loss-plot .loss-point"}[view]
    page.wait_for_selector(results)
    return [page.input_value(i) for i in inputs], page.locator(results).all_inner_texts()[:5]


def test_the_url_keeps_every_views_state_through_a_reload_and_back(site):
    page, base, ranker, truth, shots = site
    n = truth["names"]
    page.goto(f"{base}/#word")
    steps = []
    page.fill("#word-input", n[0])
    page.click("#analogy summary")
    page.fill("#word-plus", truth["words"][1][0])
    page.fill("#word-minus", truth["fill"][0])
    page.fill("#word-topn", "7")
    page.click("#word-form button")
    steps.append("word")
    page.wait_for_function("() => location.hash.includes('plus=')")
    page.click("nav a[data-view=map]")
    page.fill("#map-input", n[1])
    page.fill("#map-topn", "9")
    page.click("#map-form button")
    steps.append("map")
    page.click("nav a[data-view=text]")
    page.fill("#text-query", n[2])
    page.fill("#text-passage", " ".join(truth["words"][2][:3]))
    page.click("#text-form button")
    steps.append("text")
    page.click("nav a[data-view=search]")
    page.fill("#search-input", n[3])
    page.fill("#search-k", "3")
    page.fill("#search-weight", "0.4")
    page.select_option("#search-mode", "full")
    page.click("#search-form button")
    steps.append("search")
    page.click("nav a[data-view=projector]")
    page.fill("#projector-find", n[4])
    page.fill("#projector-n", "25")
    page.click("#projector-form button")
    steps.append("projector")
    page.click("nav a[data-view=model]")
    steps.append("model")
    hashes, states = [], []
    for view in reversed(steps):  # walk back through history: each view comes back as it was
        page.wait_for_function("v => location.hash.startsWith('#' + v)", arg=view)
        state = _state(page, view)
        hashes.append(page.evaluate("location.hash"))
        states.append(state)
        page.reload()
        assert _state(page, view) == state, view  # a reload restores it
        if view == steps[0]:
            break
        if view != "model":
            page.go_back()  # to the bare view the nav link opened
            page.wait_for_function("v => location.hash === '#' + v", arg=view)
        page.go_back()
    assert states[-1][0] == [n[0], truth["words"][1][0], truth["fill"][0], "7"]
    assert "k=3" in hashes[2] and "w=0.4" in hashes[2] and "mode=full" in hashes[2]


def test_an_error_goes_away_with_its_view_and_words_are_folded_and_split(site):
    page, base, ranker, truth, shots = site
    page.goto(f"{base}/#word=zzzzqq")
    page.wait_for_selector("#status.error")
    page.click("nav a[data-view=model]")
    page.wait_for_selector("#loss-plot .loss-point")
    assert page.inner_text("#status") == ""
    a, b = truth["names"][0], truth["words"][0][1]
    page.goto(f"{base}/#word")
    page.fill("#word-input", f"{a.upper()}, {b.title()}")
    page.click("#word-form button")
    page.wait_for_selector(".column[data-space='in-in'] li")
    assert "centroid" in page.inner_text("#word-query")
    shown = page.locator(".column[data-space='in-in'] a.neighbor").all_inner_texts()
    assert shown == [w for w, _ in ranker.model.most_similar([a, b], space="in-in", topn=10)]
    counts = [c.get_attribute("data-count") for c in page.locator(".column[data-space='in-in'] .count").all()]
    assert counts[0] == str(int(ranker.model.vocab.counts[ranker.model.vocab.index[shown[0]]]))
    page.fill("#word-input", f"{a} NAme")  # completion of the word being typed, case folded
    page.wait_for_function("() => document.querySelectorAll('#completions option').length === 5")
    options = [o.get_attribute("value") for o in page.locator("#completions option").all()]
    assert sorted(options) == sorted(f"{a} {w}" for w in truth["names"])
    placeholder = page.get_attribute("#word-input", "placeholder")
    assert not any(f" {w}," in placeholder for w in ("a", "the", "with", "for"))


def test_no_view_scrolls_sideways_at_400_px(site):
    page, base, ranker, truth, shots = site
    narrow = page.context.browser.new_page()
    narrow.set_viewport_size({"width": 400, "height": 800})
    n = truth["names"]
    for view, arg in (("word", n[0]), ("map", n[1]), ("text", f"{n[2]}&doc=about2"), ("search", n[3]),
                      ("projector", n[4]), ("model", "")):
        narrow.goto(f"{base}/#{view}={arg}" if arg else f"{base}/#{view}")
        _state(narrow, view)
        width = narrow.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, (view, width)
        narrow.screenshot(path=str(shots / f"{view}-400.png"), full_page=True)
    narrow.close()


def test_docs_renders_with_the_network_off(site):
    page, base, *_ = site
    offline = page.context.browser.new_page()
    blocked = []

    def only_loopback(route):
        if route.request.url.startswith(base):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    offline.route("**/*", only_loopback)
    offline.goto(f"{base}/docs")
    offline.wait_for_selector(".swagger-ui .info .title", timeout=15000)
    assert "dualvec explorer" in offline.inner_text(".swagger-ui .info .title")
    offline.wait_for_selector(".opblock-summary-path")
    assert "/api/neighbors" in offline.locator(".opblock-summary-path").all_inner_texts()
    assert blocked == []  # nothing was even asked of the outside
    offline.close()


def test_an_index_built_on_another_model_shows_a_warning(site, root, tmp_path):
    page, base, ranker, truth, shots = site
    sents, _ = topical_corpus(n_sentences=300)
    other = dualvec.train(sents, sg=True, min_count=1, epochs=1, vector_size=8, workers=1, progress=False)
    other.save(tmp_path / "other")
    with running_server(tmp_path / "other", root / "idx") as other_base:
        p = page.context.browser.new_page()
        p.goto(f"{other_base}/#model")
        p.wait_for_selector("#banner:not([hidden])")
        assert "another model" in p.inner_text("#banner")
        p.close()
    page.goto(f"{base}/#model")
    page.wait_for_selector("#loss-plot .loss-point")
    assert page.locator("#banner").is_hidden()  # and none where model and index agree


def _shown_sums(page):
    """Each result's shown score and the shown contributions of its components."""
    out = []
    for li in page.locator("#results li").all():
        parts = [float(b.inner_text()) for b in li.locator(".doc-scores .component .contribution").all()]
        out.append((li.get_attribute("data-doc"), float(li.locator(".doc-scores .score").inner_text()), parts))
    return out


@pytest.mark.parametrize("mode", ["rerank", "full"])
def test_search_shows_every_component_and_they_add_up_to_the_score(site, mode):
    page, base, ranker, truth, shots = site
    q = f"{truth['names'][3]} {truth['words'][3][4]}"
    page.goto(f"{base}/#search={q.replace(' ', '+')}&w=0.4" + ("&mode=full" if mode == "full" else ""))
    page.wait_for_selector("#results li .component")
    rows = _shown_sums(page)
    expected = ranker.explain_ranking(q, 10, mode=mode, alpha=0.4)["results"]
    assert [d for d, _, _ in rows] == [r["doc_id"] for r in expected]
    scores = [s for _, s, _ in rows]
    assert scores == sorted(scores, reverse=True)  # in score order
    for (doc, score, parts), r in zip(rows, expected):
        assert len(parts) == 2  # BM25 and DESM, each weight x normalised value
        assert sum(parts) == pytest.approx(score, abs=0.0005 * (len(parts) + 1)), doc  # to display precision
        assert parts == pytest.approx([c["contribution"] for c in r["components"]], abs=6e-4)
    # the DESM mixes both models, each named with its DESM
    first = page.locator("#results li").first
    assert [m.get_attribute("data-model") for m in first.locator(".model-desm").all()] == ["the index's model", IN_DOMAIN]
    formula = page.inner_text("#search-formula")
    assert "0.6 × BM25 + 0.4 × DESM" in formula and IN_DOMAIN in formula and "mean of 2 models" in formula
    pipeline = page.inner_text("#search-pipeline")
    if mode == "full":  # the full-mode pipeline: every document scored, no BM25 first stage
        assert f"every document ({len(ranker.doc_ids)})" in pipeline and "BM25 top" not in pipeline
        assert "over all" in formula
    else:
        assert "BM25 top" in pipeline and "every document" not in pipeline
    page.screenshot(path=str(shots / f"search-components-{mode}.png"), full_page=True)


def test_the_projector_links_a_words_in_and_out_points_and_finds_the_exact_word(site):
    page, base, ranker, truth, shots = site
    word = truth["names"][0]  # "nameax": its prefix "name" is in every name
    page.goto(f"{base}/#projector={word}&n=40")
    page.wait_for_selector("#projector circle.mark")
    marked = {(c.get_attribute("data-word"), c.get_attribute("data-space")) for c in page.locator("#projector circle.mark").all()}
    assert marked == {(word, "in"), (word, "out")}  # exact: only the word itself
    assert page.locator(f"#projector .labels text[data-word='{word}']").count() >= 1  # and it is labelled

    def centre(space, w=word):
        c = page.locator(f"#projector circle[data-word='{w}'][data-space='{space}']")
        return float(c.get_attribute("cx")), float(c.get_attribute("cy"))

    link = page.locator(f"#projector line.link[data-word='{word}']")
    assert link.count() == 1  # the selected word's IN point joined to its OUT point
    ends = [float(link.get_attribute(a)) for a in ("x1", "y1", "x2", "y2")]
    assert ends == pytest.approx([*centre("in"), *centre("out")], abs=0.01)
    # hovering another word draws its link, leaving removes it
    other = truth["words"][1][0]
    page.hover(f"#projector circle[data-word='{other}'][data-space='out']")
    hover = page.locator("#projector line.link.hover")
    assert hover.count() == 1 and hover.get_attribute("data-word") == other
    assert [float(hover.get_attribute(a)) for a in ("x1", "y1", "x2", "y2")] == pytest.approx(
        [*centre("in", other), *centre("out", other)], abs=0.01)
    page.mouse.move(2, 2)
    assert page.locator("#projector line.link.hover").count() == 0
    # substring on: every word holding the text
    page.goto(f"{base}/#projector=name&n=40&sub=1")
    page.wait_for_selector("#projector circle.mark")
    assert page.is_checked("#projector-substring")
    found = {c.get_attribute("data-word") for c in page.locator("#projector circle.mark").all()}
    assert found == set(truth["names"])
    page.goto(f"{base}/#projector=name&n=40")  # exact: "name" is no word of the model
    page.wait_for_selector("#projector circle")
    page.wait_for_function("() => document.querySelector('#projector-meta').textContent.includes('match')")
    assert page.locator("#projector circle.mark").count() == 0


def test_projector_labels_keep_off_other_labels_and_points_in_a_dense_plot(site, tmp_path):
    page, *_ = site
    rng = np.random.default_rng(0)
    words = [f"w{i:03d}x" for i in range(300)]
    sents = [list(rng.choice(words, 8)) for _ in range(1500)]
    model = dualvec.train(sents, sg=True, min_count=1, epochs=1, vector_size=8, workers=1, seed=1, progress=False)
    model.save(tmp_path / "dense")
    with running_server(tmp_path / "dense") as dense_base:
        p = page.context.browser.new_page(viewport={"width": 900, "height": 800})
        p.goto(f"{dense_base}/#projector&n=300")
        p.wait_for_function("() => document.querySelectorAll('#projector circle').length === 600")
        labels = [(t.get_attribute("data-word"), t.bounding_box()) for t in p.locator("#projector .labels text").all()]
        dots = [(c.get_attribute("data-word"), float(c.get_attribute("cx")), float(c.get_attribute("cy")))
                for c in p.locator("#projector circle").all()]
        svg = p.locator("#projector svg")
        box = svg.bounding_box()
        k = box["width"] / float(svg.get_attribute("viewBox").split()[2])  # page px per SVG unit
        assert len(labels) >= 20
        # a label's box includes its white halo (a stroke of 3 units around the glyphs): halos may touch
        halo = 1.5 * k
        labels = [(w, {"x": b["x"] + halo, "y": b["y"] + halo, "width": b["width"] - 2 * halo,
                       "height": b["height"] - 2 * halo}) for w, b in labels]
        for i, (w, a) in enumerate(labels):
            for _, b in labels[i + 1:]:
                assert not (a["x"] < b["x"] + b["width"] - 1 and b["x"] < a["x"] + a["width"] - 1 and
                            a["y"] < b["y"] + b["height"] - 1 and b["y"] < a["y"] + a["height"] - 1), w
            inside = [d for d, x, y in dots if d != w and a["x"] + 1 < box["x"] + x * k < a["x"] + a["width"] - 1
                      and a["y"] + 1 < box["y"] + y * k < a["y"] + a["height"] - 1]
            assert inside == [], (w, inside)  # no other point under a label
        p.close()


def test_the_model_page_at_400_px_is_readable_and_names_the_in_domain_model(site):
    page, base, ranker, truth, shots = site
    narrow = page.context.browser.new_page(viewport={"width": 400, "height": 900})
    narrow.goto(f"{base}/#model")
    narrow.wait_for_selector("#loss-plot .loss-point")
    text = narrow.inner_text("#view-model")
    assert "null" not in text and "undefined" not in text
    keys = narrow.locator("#model-table th[scope=row]")
    assert keys.count() > 10
    for i in range(keys.count()):
        th = keys.nth(i)
        style = th.evaluate("e => { const s = getComputedStyle(e); return [s.overflowWrap, s.wordBreak]; }")
        assert style[0] not in ("anywhere", "break-word") and style[1] not in ("break-all", "break-word"), style
        assert th.evaluate("e => e.scrollWidth <= e.clientWidth"), th.inner_text()  # the key fits its box
    rows = {r.locator("th").inner_text(): r.locator("td").inner_text()
            for r in narrow.locator("#model-table tr:not(.section)").all()}
    assert rows["tokeniser"] == "default: \\w+, lowercased"  # the pattern as one writes it, not a repr
    assert rows["DESM of"] == f"the mean of 2 models' (the index's model, {IN_DOMAIN})"
    assert rows["first stage"] == f"BM25 top {ranker.config.first_stage_k}"
    sections = narrow.locator("#model-table tr.section").all_inner_texts()
    assert f"{IN_DOMAIN} model".upper() in [s.upper() for s in sections]
    domain = ranker.extra_models[IN_DOMAIN].model
    assert f"epochs {domain.params.epochs}" in text and f"window {domain.params.window}" in text
    assert "the indexed documents' text" in text
    assert narrow.evaluate("document.documentElement.scrollWidth") <= 400
    narrow.screenshot(path=str(shots / "model-400.png"), full_page=True)
    narrow.close()


def test_a_learned_rankers_search_shows_its_features_times_weights(site, root, tmp_path):
    page, base, ranker, truth, shots = site
    from dualvec.ranking.features import learning_data
    from dualvec.ranking.learned import CoordinateAscent

    feats = ranker.features()
    queries = {f"q{t}": name for t, name in enumerate(truth["names"])}
    X, y, group, _ = learning_data([feats.compute(text, query_id=qid) for qid, text in queries.items()],
                                   {f"q{t}": {f"about{t}": 1} for t in range(len(truth["names"]))})
    learner = CoordinateAscent(shrinkage=0.0, n_iter=2).fit(X, y, group, feats.names)
    learned = ranker.with_config(learned=learner.to_dict())
    learned.save(tmp_path / "idx")
    q = truth["names"][2]
    with running_server(root / "model", tmp_path / "idx") as learned_base:
        p = page.context.browser.new_page()
        p.goto(f"{learned_base}/#search={q}")  # the weight box empty: the learned ranker ranks
        p.wait_for_selector("#results li .component")
        assert p.input_value("#search-weight") == ""
        rows = _shown_sums(p)
        assert [d for d, _, _ in rows] == [d for d, _ in learned.search(q, 10)]
        for doc, score, parts in rows:  # every feature with a weight, weight x normalised value
            assert len(parts) == sum(w != 0 for w in learner.weights_)
            assert sum(parts) == pytest.approx(score, abs=0.0005 * (len(parts) + 1)), doc
        assert "Σ weight × feature" in p.inner_text("#search-formula")
        assert "learned ranker (coordinate_ascent" in p.inner_text("#search-pipeline")
        names = {c.get_attribute("data-name") for c in p.locator("#results li").first.locator(".component").all()}
        assert names <= set(feats.names) and f"desm_in_out@{IN_DOMAIN}" in feats.names
        p.close()
