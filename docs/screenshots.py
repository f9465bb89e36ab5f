"""Take the explorer screenshots in docs/ (explorer-*.png), at 1280 and 400 px.

    python docs/screenshots.py MODEL INDEX [OUT_DIR]

Serves MODEL with INDEX on 127.0.0.1 through ``dualvec serve`` and drives Debian's chromium with
Playwright. The README's pictures come from a skip-gram model of SciFact (``dualvec train
../shared/data/scifact -o scifact.dv --sg 1``) and its index (``dualvec index scifact.dv
../shared/data/scifact -o scifact.idx``).
"""

from __future__ import annotations

import json
import sys
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers import running_server  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

QUERY = "insulin resistance in obese children"


def main(model: Path, index: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with running_server(model, index) as base, sync_playwright() as p:
        top = json.load(urllib.request.urlopen(f"{base}/api/search?q={urllib.parse.quote(QUERY)}&k=1"))["results"][0]
        q = urllib.parse.quote_plus(QUERY)
        views = {
            "words": ("word=Insulin+children", ".column li"),
            "map": ("map=insulin&k=20", ".map circle"),
            "text": (f"text={q}&doc={top['doc_id']}", "#shade-in-out .tok"),
            "search": (f"search={q}", "#results li"),
            "projector": ("projector=insulin&n=1500", "#projector circle.mark"),
            "model": ("model", "#loss-plot .loss-point"),
        }
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for width, height, names in ((1280, 1000, views), (400, 1500, ("words", "map", "text", "search", "model"))):
            page = browser.new_page(viewport={"width": width, "height": height})
            for name in names:
                hash_, ready = views[name]
                page.goto(f"{base}/#{hash_}")
                page.wait_for_selector(ready, timeout=120_000)
                page.wait_for_timeout(300)
                wide = page.evaluate("document.documentElement.scrollWidth")
                suffix = "" if width == 1280 else f"-{width}"
                page.screenshot(path=str(out / f"explorer-{name}{suffix}.png"))
                print(f"explorer-{name}{suffix}.png  (page {wide} px wide in a {width} px window)")
            page.close()
        browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]) if len(sys.argv) > 3 else Path(__file__).parent)
