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

from dualvec.ranking import Ranker  # noqa: E402
from helpers import running_server  # noqa: E402
from synthetic import saved_topical_index  # noqa: E402


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    _, truth, _ = saved_topical_index(root)
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
        words = toks.all_inner_texts()
        assert words == passage.split()
        cos = [float(toks.nth(i).get_attribute("data-cos")) for i in range(len(words))]
        assert cos == pytest.approx([float(qv @ other.unit[m.vocab.index[w]]) for w in words], abs=1e-4)
        # darker shading for a higher cosine
        alphas = [float(re.search(r"rgba\([^)]*,\s*([\d.]+)\)", toks.nth(i).get_attribute("style")).group(1))
                  for i in range(len(words))]
        assert np.argmax(alphas) == np.argmax(cos)
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
    page.locator("#results a.doc-id").first.click()
    page.wait_for_selector("#shade-in-out .tok")
    assert page.input_value("#text-passage") == ranker.texts[int(ranker.rows([shown[0]])[0])]
    assert page.inner_text("#bm25")


def test_the_map_and_model_views_draw(site):
    page, base, ranker, truth, shots = site
    page.goto(f"{base}/#map={truth['names'][1]}")
    page.wait_for_selector(".map[data-space='in-out'] circle")
    assert page.locator(".map[data-space='in-in'] circle").count() == 16
    page.screenshot(path=str(shots / "map.png"), full_page=True)
    page.goto(f"{base}/#model")
    page.wait_for_selector("#loss-plot .loss-point")
    losses = [float(c.get_attribute("data-loss")) for c in page.locator("#loss-plot .loss-point").all()]
    assert losses == pytest.approx([h.loss for h in ranker.model.history])
    page.screenshot(path=str(shots / "model.png"), full_page=True)
