// The dualvec explorer: plain JavaScript over the server's JSON API, plots drawn as SVG.
"use strict";

const $ = (sel) => document.querySelector(sel);
const SPACE_LABEL = { "in-in": "IN-IN", "in-out": "IN-OUT", "out-in": "OUT-IN", "out-out": "OUT-OUT" };
let MODEL = null;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function status(message, kind = "") {
  const s = $("#status");
  s.textContent = message || "";
  s.className = kind;
}

async function api(path, options = {}) {
  status("loading…", "loading");
  let response;
  try {
    response = await fetch(path, options);
  } catch (e) {
    status("the server cannot be reached", "error");
    throw e;
  }
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (!response.ok) {
    const detail = body && body.detail;
    const message = typeof detail === "string" ? detail
      : Array.isArray(detail) ? detail.map((d) => `${(d.loc || []).slice(-1)[0]}: ${d.msg}`).join("; ")
      : `request failed (${response.status})`;
    status(message, "error");
    throw new Error(message);
  }
  status("");
  return body;
}

function fmt(x, digits = 3) {
  if (x === null || x === undefined) return "–";
  const s = Number(x).toFixed(digits);
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;  // no "-0.000"
}

// -- views, navigation and the state in the URL ---------------------------------------------
// Every view's state lives in the hash, "#view=main&key=value…" (e.g. "#word=yale&plus=woman&minus=man&k=10"),
// so a reload, a bookmark or the back button brings the view back as it was.

const VIEWS = ["word", "map", "text", "search", "projector", "model"];

function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  const first = [...params.entries()][0];
  let view = first ? first[0] : "word";
  const main = first ? first[1] : "";
  if (!VIEWS.includes(view)) view = "word";
  params.delete(view);
  return { view, main, get: (k, d = "") => params.get(k) ?? d };
}

function hashOf(view, main = "", params = {}) {
  const p = new URLSearchParams();
  p.set(view, main || "");
  for (const [k, v] of Object.entries(params)) if (v !== "" && v !== null && v !== undefined) p.set(k, v);
  return p.toString().replace(new RegExp(`^${view}=(&|$)`), `${view}$1`);
}

function show(view) {
  for (const s of document.querySelectorAll(".view")) s.hidden = s.id !== `view-${view}`;
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.view === view);
}

function route() {
  const { view, main, get } = readHash();
  status("");  // an error belongs to the view that made it
  show(view);
  if (view === "word") {
    $("#word-input").value = main; $("#word-plus").value = get("plus"); $("#word-minus").value = get("minus");
    $("#word-topn").value = get("k", "10");
    if (get("plus") || get("minus")) $("#analogy").open = true;
    if (main || get("plus")) loadNeighbors(); else { $("#columns").replaceChildren(); $("#word-query").textContent = ""; }
  }
  if (view === "map") {
    $("#map-input").value = main; $("#map-topn").value = get("k", "15");
    if (main) loadMap(); else $("#maps").replaceChildren();
  }
  if (view === "text") {
    $("#text-query").value = main; $("#text-doc").value = get("doc");
    if (!get("doc")) $("#text-passage").value = get("passage", $("#text-passage").value);
    if (main && (get("doc") || $("#text-passage").value)) loadText();
  }
  if (view === "search") {
    $("#search-input").value = main; $("#search-k").value = get("k", "10");
    const ix = (MODEL && MODEL.index) || {};
    $("#search-weight").value = get("w", defaultWeight(ix));
    $("#search-mode").value = get("mode", "rerank");
    $("#search-space").value = get("space", ix.space || "");
    if (main) loadSearch(); else $("#results").replaceChildren();
  }
  if (view === "projector") {
    $("#projector-find").value = main; $("#projector-method").value = get("method", "pca");
    $("#projector-n").value = get("n", "1000"); $("#projector-stop").checked = get("stop") === "1";
    $("#projector-substring").checked = get("sub") === "1";
    loadProjector();
  }
  if (view === "model") loadModel();
}

function go(view, main = "", params = {}) {
  const hash = hashOf(view, main, params);
  if (location.hash.slice(1) === hash) route(); else location.hash = hash;
}

// -- word view -----------------------------------------------------------------------------

let completionTimer = null;
for (const box of ["#word-input", "#map-input", "#projector-find"]) $(box).addEventListener("input", () => {
  clearTimeout(completionTimer);
  const text = $(box).value.trimEnd(), prefix = text.split(/[\s,]+/).pop();  // the word being typed
  if (!prefix) return;
  const head = text.slice(0, text.length - prefix.length);
  completionTimer = setTimeout(async () => {
    const r = await fetch(`/api/complete?prefix=${encodeURIComponent(prefix)}&limit=12`);
    if (!r.ok) return;
    const words = await r.json();
    $("#completions").replaceChildren(...words.map((w) => el("option", { value: head + w })));
  }, 120);
});

$("#word-form").addEventListener("submit", (e) => {
  e.preventDefault();
  go("word", $("#word-input").value.trim(), { plus: $("#word-plus").value.trim(), minus: $("#word-minus").value.trim(),
                                              k: $("#word-topn").value === "10" ? "" : $("#word-topn").value });
});

async function apiOrEmpty(path, view) {
  // The view's data, or null with the view emptied: api() has already shown the error.
  try { return await api(path); } catch (e) { view.replaceChildren(); return null; }
}

function countText(n) { return n === null || n === undefined ? "" : `×${Number(n).toLocaleString()}`; }

async function loadNeighbors() {
  // Each box may hold several words (split on spaces and commas, case folded by the server as the
  // model's tokeniser does); the query is their centroid, plus minus minus.
  const params = new URLSearchParams();
  const word = $("#word-input").value.trim();
  if (word) params.append("positive", word);
  for (const w of $("#word-plus").value.split(/[\s,]+/).filter(Boolean)) params.append("positive", w);
  for (const w of $("#word-minus").value.split(/[\s,]+/).filter(Boolean)) params.append("negative", w);
  params.set("topn", $("#word-topn").value || "10");
  const columns = $("#columns");
  const data = await apiOrEmpty(`/api/neighbors?${params}`, columns);
  if (!data) { $("#word-query").textContent = ""; return; }
  const named = (ws) => ws.map((w) => `${w} ${countText(data.counts[w])}`.trim()).join(" + ");
  let query = data.positive.length > 1 ? `the centroid of ${named(data.positive)}` : named(data.positive);
  if (data.negative.length) query += ` − ${data.negative.map((w) => `${w} ${countText(data.counts[w])}`.trim()).join(" − ")}`;
  $("#word-query").textContent = `neighbours of ${query}`;
  columns.replaceChildren(...Object.entries(data.columns).map(([space, col]) => {
    const title = el("h3", {}, SPACE_LABEL[space]);
    if (col.approximate) title.append(" ", el("span", { class: "approx", text: "(approximate: hierarchical softmax)" }));
    const list = col.neighbors.length
      ? el("ol", {}, ...col.neighbors.map((n) => el("li", {},
          el("a", { href: `#${hashOf("word", n.word)}`, class: "neighbor", "data-word": n.word, text: n.word }),
          el("span", { class: "nums" }, el("span", { class: "cos", text: fmt(n.cos) }),
             el("span", { class: "count", "data-count": n.count ?? "", text: countText(n.count) })))))
      : el("p", { class: "empty", text: "no neighbours" });
    return el("div", { class: "column", "data-space": space }, title, list);
  }));
}

// -- scatter plots: one routine draws the map panels and the projector ----------------------
// Points come in data coordinates within [-1, 1] (the server scales them, outliers clamped to the edge).
// The SVG's viewBox is as wide as its box when drawn and its width is 100%, so it never overflows the page.
// Zoom (wheel, the buttons) and pan (drag) change the data window and redraw, so labels keep their size
// and are placed again: most important first, at the first of four spots where a label overlaps no other
// label and no other point; one that fits nowhere is left out (its word is still in the point's tooltip, and
// zooming in makes room). With opts.partner(p) (the same word in the other space), a line joins the two on
// hover, and always for marked points.

const HOME = { x0: -1.1, x1: 1.1, y0: -1.1, y1: 1.1 };

function zoomState() { return { win: { ...HOME }, draws: [] }; }

function scatter(container, points, opts) {
  const state = opts.state || zoomState();
  const W = Math.max(280, Math.round(container.clientWidth || 560)), H = opts.height || Math.round(Math.min(440, W * 0.8));
  const pad = { l: 8, r: 8, t: 8, b: 22 };
  const plot = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", role: "img", "aria-label": opts.label,
                            class: "scatter", "data-width": W });
  const tip = el("div", { class: "tip", hidden: "" });
  const controls = el("div", { class: "zoom" },
    el("button", { type: "button", title: "zoom in", onclick: () => zoom(0.67, 0.5, 0.5) }, "+"),
    el("button", { type: "button", title: "zoom out", onclick: () => zoom(1.5, 0.5, 0.5) }, "−"),
    el("button", { type: "button", title: "reset the view", onclick: () => { state.win = { ...HOME }; redraw(); } }, "reset"));
  const wrap = el("div", { class: "scatter-wrap" }, controls, plot, tip);
  container.append(wrap);
  const inner = { w: W - pad.l - pad.r, h: H - pad.t - pad.b };
  const sx = (x) => pad.l + (x - state.win.x0) / (state.win.x1 - state.win.x0) * inner.w;
  const sy = (y) => pad.t + (1 - (y - state.win.y0) / (state.win.y1 - state.win.y0)) * inner.h;

  function draw() {
    plot.replaceChildren(svg("rect", { x: pad.l, y: pad.t, width: inner.w, height: inner.h, class: "frame" }));
    if (opts.axes) {
      plot.append(svg("text", { x: pad.l + inner.w / 2, y: H - 6, "text-anchor": "middle", class: "axis" }, opts.axes[0]));
      plot.append(svg("text", { x: pad.l + 4, y: pad.t + 12, class: "axis" }, opts.axes[1]));
    }
    const links = svg("g", { class: "links" }), dots = svg("g", { class: "dots" }), labels = svg("g", { class: "labels" });
    plot.append(links, dots, labels);
    const joined = new Set();
    const link = (p, cls) => {
      const q = opts.partner && opts.partner(p);
      if (!q) return null;
      const [a, b] = p.space === "out" ? [q, p] : [p, q];  // drawn from the IN point to the OUT point
      return links.appendChild(svg("line", { x1: sx(a.x).toFixed(2), y1: sy(a.y).toFixed(2), x2: sx(b.x).toFixed(2),
                                             y2: sy(b.y).toFixed(2), class: cls, "data-word": p.word }));
    };
    for (const p of points) if (p.mark && !joined.has(p.word) && link(p, "link")) joined.add(p.word);
    let hovered = null;
    const shown = [];
    for (const p of points) {
      const x = sx(p.x), y = sy(p.y);
      if (x < pad.l || x > W - pad.r || y < pad.t || y > H - pad.b) continue;
      const c = svg("circle", { cx: x.toFixed(2), cy: y.toFixed(2), r: p.r || 3.5, fill: p.color,
                                class: `pt${p.clamped ? " clamped" : ""}${p.mark ? " mark" : ""}${p.dim ? " dim" : ""}`,
                                "data-word": p.word, "data-x": p.x, "data-y": p.y, "data-space": p.space || "" });
      c.addEventListener("mouseenter", (e) => {
        tip.replaceChildren(...opts.tip(p).map((line) => el("div", { text: line }))); tip.hidden = false; place(e);
        if (hovered) hovered.remove();
        hovered = link(p, "link hover");
      });
      c.addEventListener("mousemove", place);
      c.addEventListener("mouseleave", () => { tip.hidden = true; if (hovered) { hovered.remove(); hovered = null; } });
      if (opts.onclick) c.addEventListener("click", () => opts.onclick(p));
      dots.append(c);
      shown.push({ p, x, y });
    }
    // Labels, greedily: a box per placed label; four spots tried per point.
    const font = 11, limit = opts.maxLabels || 400;
    // Labels keep off the other points too (found through a grid of cells, so a dense plot stays fast): in a
    // dense region few labels fit, and zooming in spreads the points and places more.
    const hits = (a, b) => b.x0 < a.x1 && a.x0 < b.x1 && b.y0 < a.y1 && a.y0 < b.y1;
    const CELL = 24, grid = new Map();
    const cells = (b, visit) => {
      for (let i = Math.floor(b.x0 / CELL); i <= Math.floor(b.x1 / CELL); i++)
        for (let j = Math.floor(b.y0 / CELL); j <= Math.floor(b.y1 / CELL); j++) if (visit(`${i},${j}`)) return true;
      return false;
    };
    const remember = (b) => cells(b, (key) => { (grid.get(key) || grid.set(key, []).get(key)).push(b); return false; });
    // A searched or query word's label goes over other points if it must, never over another label.
    const taken = (box, p) => cells(box, (key) => (grid.get(key) || []).some(
      (b) => b.p !== p && !(b.dot && (p.mark || p.query)) && hits(box, b)));
    for (const { p, x, y } of shown) remember({ p, dot: true, x0: x - 2.5, x1: x + 2.5, y0: y - 2.5, y1: y + 2.5 });
    shown.sort((a, b) => b.p.priority - a.p.priority);
    let placed = 0;
    for (const { p, x, y } of shown) {
      if (placed >= limit && !p.mark) break;
      // The glyphs' box (ascent about one font size above the baseline, descent a third below), with room
      // for the label's white halo.
      const w = p.word.length * font * 0.62 + 6, above = font + 1, below = Math.round(font * 0.35) + 1;
      for (const [dx, dy, anchor] of [[6, 4, "start"], [-6, 4, "end"], [0, -7, "middle"], [0, 15, "middle"]]) {
        const left = (anchor === "start" ? x + dx : anchor === "end" ? x + dx - w : x - w / 2) - 1;
        const box = { x0: left, x1: left + w, y0: y + dy - above, y1: y + dy + below };
        if (box.x0 < pad.l || box.x1 > W - pad.r || box.y0 < pad.t || box.y1 > H - pad.b) continue;
        if (taken(box, p)) continue;
        remember(box);
        labels.append(svg("text", { x: (x + dx).toFixed(1), y: (y + dy).toFixed(1), "text-anchor": anchor,
                                    class: `${p.query ? "query" : ""}${p.mark ? " mark" : ""}${p.dim ? " dim" : ""}`, "data-word": p.word }, p.word));
        placed++;
        break;
      }
    }
  }
  function redraw() { for (const d of state.draws) d(); }
  function place(e) {
    const r = wrap.getBoundingClientRect();
    tip.style.left = `${Math.min(e.clientX - r.left + 12, r.width - 180)}px`;
    tip.style.top = `${e.clientY - r.top + 12}px`;
  }
  function toData(e) {
    const r = plot.getBoundingClientRect();
    return [((e.clientX - r.left) * W / r.width - pad.l) / inner.w, ((e.clientY - r.top) * W / r.width - pad.t) / inner.h];
  }
  function zoom(f, fx, fy) {
    const w = state.win, cx = w.x0 + fx * (w.x1 - w.x0), cy = w.y1 - fy * (w.y1 - w.y0);
    state.win = { x0: cx - (cx - w.x0) * f, x1: cx + (w.x1 - cx) * f, y0: cy - (cy - w.y0) * f, y1: cy + (w.y1 - cy) * f };
    redraw();
  }
  plot.addEventListener("wheel", (e) => { e.preventDefault(); const [fx, fy] = toData(e); zoom(Math.exp(e.deltaY * 0.0015), fx, fy); },
                        { passive: false });
  let drag = null;
  plot.addEventListener("pointerdown", (e) => { drag = { e, win: { ...state.win } }; plot.setPointerCapture(e.pointerId); });
  plot.addEventListener("pointermove", (e) => {
    if (!drag) return;
    const r = plot.getBoundingClientRect(), k = W / r.width;
    const dx = (e.clientX - drag.e.clientX) * k / inner.w * (drag.win.x1 - drag.win.x0);
    const dy = (e.clientY - drag.e.clientY) * k / inner.h * (drag.win.y1 - drag.win.y0);
    if (Math.abs(dx) + Math.abs(dy) === 0) return;
    state.win = { x0: drag.win.x0 - dx, x1: drag.win.x1 - dx, y0: drag.win.y0 + dy, y1: drag.win.y1 + dy };
    redraw();
  });
  plot.addEventListener("pointerup", () => { drag = null; });
  plot.addEventListener("dblclick", () => { state.win = { ...HOME }; redraw(); });
  state.draws.push(draw);
  draw();
  return state;
}

function pct(x) { return `${Math.round(100 * x)}%`; }

// -- map view ------------------------------------------------------------------------------

$("#map-form").addEventListener("submit", (e) => {
  e.preventDefault();
  go("map", $("#map-input").value.trim(), { k: $("#map-topn").value === "15" ? "" : $("#map-topn").value });
});

async function loadMap() {
  const word = $("#map-input").value.trim();
  if (!word) return;
  const k = $("#map-topn").value || "15";
  const data = await apiOrEmpty(`/api/map?word=${encodeURIComponent(word)}&topn=${encodeURIComponent(k)}`, $("#maps"));
  if (!data) { $("#map-meta").textContent = ""; return; }
  const [e1, e2] = data.explained;
  $("#map-meta").textContent = `${data.words.length > 1 ? `the centroid of ${data.words.join(" + ")}` : data.word}: `
    + `PC1 explains ${pct(e1)} and PC2 ${pct(e2)} of the variance of these words' IN vectors`;
  const state = zoomState();  // both panels zoom and pan together: they share one projection
  const boxes = Object.entries(data.panels).map(([space, panel]) => {
    const title = el("h3", {}, `${SPACE_LABEL[space]}: ${space === "in-in" ? "same type" : "occurs with"}`);
    if (panel.approximate) title.append(" (approximate)");
    return [space, panel, el("div", { class: "map", "data-space": space }, title)];
  });
  $("#maps").replaceChildren(...boxes.map(([, , box]) => box));
  for (const [space, panel, box] of boxes) {
    const color = space === "in-out" ? "rgb(214,96,40)" : "rgb(47,95,208)";
    const points = panel.points.map((p) => ({ ...p, color: p.query ? "#b3261e" : color, r: p.query ? 5 : 3.5,
                                              priority: p.query ? 1e9 : p.cos }));
    scatter(box, points, { state, label: `${SPACE_LABEL[space]} neighbourhood of ${data.word}`, axes: [`PC1 (${pct(e1)})`, `PC2 (${pct(e2)})`],
      tip: (p) => [p.word, p.query ? "the query" : `cos ${fmt(p.cos)} (${SPACE_LABEL[space]})`,
                   ...(p.count !== null ? [`count ${Number(p.count).toLocaleString()}`] : []),
                   ...(p.clamped ? ["beyond the plot: pinned to its edge"] : [])],
      onclick: (p) => { if (!p.query) go("map", p.word, { k: k === "15" ? "" : k }); } });
  }
}

// -- projector view: the whole vocabulary --------------------------------------------------

$("#projector-form").addEventListener("submit", (e) => {
  e.preventDefault();
  go("projector", $("#projector-find").value.trim(), { method: $("#projector-method").value === "pca" ? "" : $("#projector-method").value,
     n: $("#projector-n").value === "1000" ? "" : $("#projector-n").value, stop: $("#projector-stop").checked ? "1" : "",
     sub: $("#projector-substring").checked ? "1" : "" });
});

let PROJECTION = null;  // the last one fetched (the server keeps each; the page keeps the one shown)

async function loadProjector() {
  const method = $("#projector-method").value, n = $("#projector-n").value || "1000", stop = $("#projector-stop").checked;
  const key = `${method}|${n}|${stop}`;
  if (!PROJECTION || PROJECTION.key !== key) {
    if (method === "umap") status("computing UMAP (the first time also compiles it: up to a minute)…", "loading");
    const data = await apiOrEmpty(`/api/projection?method=${method}&n=${encodeURIComponent(n)}&stopwords=${stop}`, $("#projector"));
    if (!data) { $("#projector-meta").textContent = ""; return; }
    status("");
    PROJECTION = { key, data, state: zoomState() };
  }
  // The search rings the word typed (folded as the model folds words), or with "substring" every word holding it.
  const data = PROJECTION.data, typed = $("#projector-find").value.trim(), substring = $("#projector-substring").checked;
  const find = MODEL && MODEL.lowercase ? typed.toLowerCase() : typed;
  const matches = find ? data.points.filter((p) => (substring ? p.word.includes(find) : p.word === find)) : [];
  const words = new Set(matches.map((p) => p.word));
  const rank = new Map(data.points.filter((p) => p.space === "in").map((p, i) => [p.word, i]));
  const points = data.points.map((p) => ({ ...p, color: p.space === "out" ? "rgb(214,96,40)" : "rgb(47,95,208)",
    r: words.has(p.word) ? 5 : 2.6, mark: words.has(p.word), dim: find && !words.has(p.word),
    priority: (words.has(p.word) ? 1e9 : 0) - rank.get(p.word) }));
  points.sort((a, b) => a.mark - b.mark);  // matches drawn last, on top
  const partner = new Map(points.map((p) => [`${p.word}\u0000${p.space}`, p]));  // a word's IN point <-> its OUT point
  const axes = data.method === "pca" ? [`PC1 (${pct(data.explained[0])})`, `PC2 (${pct(data.explained[1])})`] : ["UMAP 1", "UMAP 2"];
  $("#projector-meta").textContent = `${data.n.toLocaleString()} most frequent words${data.stopwords ? "" : " (stop words left out)"}, `
    + `${data.spaces.map((s) => s.toUpperCase()).join(" and ")} vectors, ${data.method.toUpperCase()} of both at once`
    + (data.centred ? ", each space centred on its mean" : "")
    + (find ? ` · ${words.size} word(s) ${substring ? "contain" : "match"} "${find}"` : "");
  const box = el("div", { class: "map" });
  $("#projector").replaceChildren(box);
  PROJECTION.state.draws = [];
  scatter(box, points, { state: PROJECTION.state, label: "projection of the vocabulary", axes, height: Math.min(640, Math.max(320, box.clientWidth * 0.7)),
    maxLabels: 250, partner: (p) => partner.get(`${p.word}\u0000${p.space === "in" ? "out" : "in"}`),
    tip: (p) => [`${p.word} (${p.space.toUpperCase()})`, ...(p.count !== null ? [`count ${Number(p.count).toLocaleString()}`] : []),
                 ...(p.clamped ? ["beyond the plot: pinned to its edge"] : [])],
    onclick: (p) => go("word", p.word) });
}

// -- text view -----------------------------------------------------------------------------
// Each panel's scale is centred on what is typical for the model: the query's mean cosine with a word of
// its training corpus (from the server). With a general model every IN-OUT cosine may be negative, so 0
// would paint every word "unrelated". Above the centre is red (more related than typical), the strongest
// red at the passage's most related word; below is blue, the strongest at its least related (the query's
// own words left out of both ends, as they would always win; they are clamped). The numbers are printed
// under each word, and the legend states the scale.

const POS = "214, 39, 40", NEG = "31, 119, 180";

$("#text-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const doc = $("#text-doc").value;
  go("text", $("#text-query").value.trim(), doc ? { doc } : { passage: $("#text-passage").value });
});
$("#text-passage").addEventListener("input", () => { $("#text-doc").value = ""; });

function shadeColor(v, scale) {
  const up = v >= scale.centre, a = Math.min(1, Math.abs(v - scale.centre) / (up ? scale.above : scale.below));
  return `rgba(${up ? POS : NEG}, ${(0.8 * a).toFixed(3)})`;
}

function shade(target, legend, tokens, space, queryTerms, typical) {
  const own = new Set(queryTerms);
  const scored = tokens.filter((t) => t[space] !== undefined);
  const others = scored.filter((t) => !own.has(t.term));
  const values = (others.length ? others : scored).map((t) => t[space]);
  const centre = typical ?? 0, lo = values.length ? Math.min(...values) : centre, hi = values.length ? Math.max(...values) : centre;
  const scale = { centre, lo, hi, above: Math.max(1e-6, hi - centre), below: Math.max(1e-6, centre - lo) };
  Object.assign(legend.dataset, { centre, lo, hi, space });
  legend.replaceChildren(
    el("span", { class: "lo", text: fmt(lo) }),
    el("span", { class: "bar", style: `background: linear-gradient(to right, rgba(${NEG}, .8), rgba(${NEG}, 0) 50%, rgba(${POS}, 0) 50%, rgba(${POS}, .8))` },
       el("span", { class: "mid", text: fmt(centre) })),
    el("span", { class: "hi", text: fmt(hi) }),
    el("span", { class: "scale-note", text: ` white (${fmt(centre)}): typical for this model, the query's mean cosine with a word of its corpus; `
      + `red: more related than typical, blue: less; each end at this passage's extreme`
      + (others.length < scored.length ? " (query words aside)" : "") }));
  target.replaceChildren(...tokens.map((t) => {
    if (t.stop) return el("span", { class: "tok stop", title: "a stop word: the ranker drops it" }, t.text);
    if (t.unknown) return el("span", { class: "tok unknown", title: "not in the model" }, t.text);
    if (t[space] === undefined) return document.createTextNode(t.text);
    const v = t[space];
    return el("span", { class: `tok${own.has(t.term) ? " own" : ""}`, "data-cos": v,
                        title: `cos ${fmt(v)} (typical ${fmt(centre)})`, style: `background: ${shadeColor(v, scale)}` },
              el("span", { class: "w", text: t.text }), el("span", { class: "n", text: fmt(v, 2) }));
  }));
  return scale;
}

function desmTerms(target, terms, score, space, scale) {
  // DESM = the mean over the query's words q of cos(q, D̄), D̄ the passage's centroid in that space.
  if (!terms.length) { target.replaceChildren(); return; }
  target.replaceChildren(el("span", { text: `DESM ${SPACE_LABEL[space]} = mean of cos(q, D̄): ` }),
    ...terms.flatMap((t, i) => [i ? " + " : "", el("span", { class: "contrib", "data-cos": t.cos, style: `background: ${shadeColor(t.cos, scale)}` },
      `${t.term} ${fmt(t.cos)}`)]),
    el("span", { text: ` over ${terms.length} = ` }), el("b", { text: fmt(score) }));
}

async function loadText() {
  const body = { query: $("#text-query").value };
  if ($("#text-doc").value) body.doc_id = $("#text-doc").value; else body.passage = $("#text-passage").value;
  let data;
  try {
    data = await api("/api/text", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  } catch (e) { return; }
  if (data.doc_id) $("#text-passage").value = data.tokens.map((t) => t.text).join("");
  for (const space of ["in-out", "in-in"]) {
    const panel = document.querySelector(`.panel[data-space='${space}']`);
    if (!(`desm_${space}` in data.scores)) { panel.hidden = true; continue; }
    panel.hidden = false;
    const scale = shade($(`#shade-${space}`), $(`#legend-${space}`), data.tokens, space, data.query_terms, data.typical[space]);
    desmTerms($(`#desm-terms-${space}`), data.desm_terms[space] || [], data.scores[`desm_${space}`], space, scale);
  }
  document.querySelector(".approx-note").textContent = data.approximate ? "(approximate: hierarchical softmax)" : "";
  const s = data.scores;
  const parts = [el("span", {}, "DESM IN-OUT ", el("b", { id: "desm-in-out", text: fmt(s["desm_in-out"]) })),
                 " · ", el("span", {}, "DESM IN-IN ", el("b", { id: "desm-in-in", text: fmt(s["desm_in-in"]) }))];
  if (s.bm25 !== null) parts.push(" · ", el("span", {}, "BM25 ", el("b", { id: "bm25", text: fmt(s.bm25, 2) })));
  if (data.doc_id) parts.push(` · document ${data.doc_id}`);
  parts.push(` · ${data.passage_terms} passage word(s) scored`);
  if (data.unknown_query_terms.length) parts.push(` · not in the model: ${data.unknown_query_terms.join(", ")}`);
  if (data.message) status(data.message, "error");
  $("#text-scores").replaceChildren(...parts);
}

function openDocument(docId, query) { go("text", query, { doc: docId }); }

// -- search view ---------------------------------------------------------------------------

// With a learned ranker in the index, an empty weight box ranks with it (a weight asks for the mixture).
function defaultWeight(ix) { return ix.learned ? "" : (ix.desm_weight ?? ""); }

function searchParams() {
  const ix = (MODEL && MODEL.index) || {};
  const w = $("#search-weight").value, mode = $("#search-mode").value, space = $("#search-space").value;
  return { k: $("#search-k").value === "10" ? "" : $("#search-k").value,
           w: w === "" || (defaultWeight(ix) !== "" && Number(w) === Number(defaultWeight(ix))) ? "" : w,
           mode: mode === "rerank" ? "" : mode, space: space === ix.space ? "" : space };
}

$("#search-form").addEventListener("submit", (e) => { e.preventDefault(); go("search", $("#search-input").value.trim(), searchParams()); });

async function loadSearch() {
  const q = $("#search-input").value.trim();
  if (!q) return;
  const p = new URLSearchParams({ q, k: $("#search-k").value || "10", mode: $("#search-mode").value || "rerank" });
  if ($("#search-weight").value !== "") p.set("desm_weight", $("#search-weight").value);
  if ($("#search-space").value) p.set("space", $("#search-space").value);
  const data = await apiOrEmpty(`/api/search?${p}`, $("#results"));
  if (!data) { $("#search-meta").replaceChildren(); return; }
  const meta = [el("div", { id: "search-pipeline" }, el("b", { text: "pipeline " }), data.stages.join(" → ")),
                el("div", { id: "search-formula" }, el("b", { text: "ranked by " }), data.formula)];
  for (const [stage, terms] of Object.entries(data.expansion))
    meta.push(el("div", { text: `${stage} added: ${terms.map((t) => `${t.term} ${fmt(t.weight)}`).join(", ")}` }));
  if (data.unknown_terms.length) meta.push(el("div", { text: `not in the model: ${data.unknown_terms.join(", ")}` }));
  if (data.message) meta.push(el("div", { text: data.message }));
  $("#search-meta").replaceChildren(...meta);
  $("#results").replaceChildren(...data.results.map((r) => el("li", { "data-doc": r.doc_id, "data-score": r.score },
    el("div", { class: "doc-head" },
      el("a", { href: `#${hashOf("text", q, { doc: r.doc_id })}`, class: "doc-link", "data-doc": r.doc_id,
                text: r.title || `document ${r.doc_id}` }),
      el("span", { class: "doc-id", text: `id ${r.doc_id}` })),
    scoreSum(r, data), componentDetails(r, data),
    el("div", { class: "terms", text: "BM25 by term: " + (r.bm25_terms.filter((t) => t.score).map((t) => `${t.term} ${fmt(t.score, 2)}`).join(", ") || "–")
      + ` · DESM ${SPACE_LABEL[data.space] || data.space} of ${r.desm_terms_model || "the index's model"} by term: `
      + (r.desm_terms.map((t) => `${t.term} ${fmt(t.score)}`).join(", ") || "–") }),
    r.snippet ? el("p", { class: "snippet", text: r.snippet + (r.snippet.length >= 300 ? "…" : "") }) : "")));
}

// A result's score as the sum the ranker computed: weight × normalised component, one term per component
// (the mixture's BM25 and DESM, or a learner's features, plus a tree model's constant), each term's value printed.
function scoreSum(r, data) {
  const terms = [];
  for (const c of r.components) {
    if (c.contribution === null) continue;
    if (data.ranker === "learned" && Math.abs(c.contribution) < 5e-4 && c.weight === 0) continue;  // unused feature
    terms.push(el("span", { class: "component", "data-name": c.name, "data-contribution": c.contribution,
                            title: `${c.label}: raw ${fmt(c.raw, 4)}, normalised ${fmt(c.normalized, 4)}` + (c.weight !== null ? `, weight ${fmt(c.weight, 4)}` : "") },
      c.weight !== null ? `${fmt(c.weight, 2)} × ${c.label} ${fmt(c.normalized)} = ` : `${c.label} `,
      el("b", { class: "contribution", text: fmt(c.contribution) })));
  }
  if (data.bias && Math.abs(data.bias) >= 5e-4)
    terms.push(el("span", { class: "component", "data-name": "bias", "data-contribution": data.bias, title: "the trees' constant" },
      "constant ", el("b", { class: "contribution", text: fmt(data.bias) })));
  const parts = terms.flatMap((t, i) => (i ? [" + ", t] : [t]));
  const head = [el("span", {}, "score ", el("b", { class: "score", text: fmt(r.score) }))];
  if (!parts.length) return el("div", { class: "doc-scores" }, ...head);
  return el("div", { class: "doc-scores" }, ...head, " = ", ...parts);
}

// Where each component's normalised value comes from: its raw score and, for a DESM mixed from several
// models, each model's raw and normalised DESM and their mean.
function componentDetails(r, data) {
  if (data.ranker === "learned") return "";
  const lines = r.components.map((c) => {
    if (!c.models) return el("span", { class: "detail", "data-name": c.name }, `${c.label} ${fmt(c.raw, c.name === "bm25" ? 2 : 3)} → ${fmt(c.normalized)}`);
    if (c.models.length === 1) return el("span", { class: "detail", "data-name": c.name }, `${c.label} of `,
      el("span", { class: "model-desm", "data-model": c.models[0].label }, c.models[0].label), ` ${fmt(c.raw)} → ${fmt(c.normalized)}`);
    return el("span", { class: "detail", "data-name": c.name }, `${c.label} = norm(mean of `,
      ...c.models.flatMap((m, i) => [i ? ", " : "", el("span", { class: "model-desm", "data-model": m.label },
        `${m.label} ${fmt(m.raw)} → ${fmt(m.normalized)}`)]),
      ` = ${fmt(c.raw)}) → ${fmt(c.normalized)}`);
  });
  return el("div", { class: "components" }, ...lines.flatMap((l, i) => (i ? [" · ", l] : [l])));
}

// -- model view ----------------------------------------------------------------------------

// A setting's value as text: a missing one is "not recorded", never "null".
function valueText(v) {
  if (v === null || v === undefined || v === "") return "not recorded";
  if (typeof v === "number") return v.toLocaleString(undefined, { maximumSignificantDigits: 6 });
  if (typeof v === "object") return Array.isArray(v) ? (v.length ? v.map(valueText).join(", ") : "none")
    : Object.entries(v).map(([k, x]) => `${k} ${valueText(x)}`).join(", ");
  return String(v);
}

// A training setting: null is a setting left at none (no limit), "unknown" one the model did not record.
function paramText(v) { return v === null ? "none" : v === "unknown" ? "not recorded" : v; }

function paramsText(params) {
  return params ? Object.entries(params).map(([k, v]) => `${k} ${valueText(paramText(v))}`).join(", ") : "not recorded";
}

async function loadModel() {
  const m = MODEL || (MODEL = await api("/api/model"));
  const rows = [["model"], ["words", m.words], ["dimensions", m.vector_size],
                ["OUT space", (m.out_space || "none") + (m.out_is_approximate ? " — an approximation" : "")],
                ["tokeniser", m.tokenizer], ["corpus words", m.corpus_words]];
  if (m.tuning) rows.push(["tuned for ranking", m.tuning]);
  rows.push(["training"]);
  if (!m.params) rows.push(["settings", null]);
  for (const [k, v] of Object.entries(m.params || {})) rows.push([k === "alpha" ? "alpha (learning rate)" : k, paramText(v)]);
  rows.push(["index"]);
  if (!m.index) rows.push(["documents", "none (start with --index)"]);
  else {
    const ix = m.index, c = ix.config || {};
    rows.push(["documents", ix.documents], ["desm_weight", ix.desm_weight], ["DESM space", SPACE_LABEL[ix.space] || ix.space],
              ["DESM of", ix.desm_of.length > 1 ? `the mean of ${ix.desm_of.length} models' (${ix.desm_of.join(", ")})` : ix.desm_of[0]],
              ["normalisation", c.normalization],
              ["first stage", ix.first_stage === "bm25" ? `BM25 top ${valueText(c.first_stage_k)}`
                : `the mixture over every document, top ${valueText(c.first_stage_k)} (${ix.first_stage})`],
              ["BM25", `k1 ${valueText(c.k1)}, b ${valueText(c.b)}`],
              ["learned ranker", ix.learned ? `${ix.learned.learner}, ${ix.learned.features.length} features` : "none"]);
    for (const x of ix.extra_models)
      rows.push([`${x.name} model`], ["words", x.words], ["dimensions", x.vector_size], ["tokeniser", x.tokenizer],
                ["trained on", x.trained_on], ["corpus words", x.corpus_words], ["trained with", paramsText(x.params)],
                ...(x.tuning ? [["tuned for ranking", x.tuning]] : []));
  }
  // A row of one element heads a section; a missing value reads "not recorded".
  $("#model-table").replaceChildren(...rows.map((row) => (row.length === 1
    ? el("tr", { class: "section" }, el("th", { colspan: "2", scope: "colgroup", text: row[0] }))
    : el("tr", {}, el("th", { scope: "row", text: row[0] }), el("td", { text: valueText(row[1]) })))));
  const plot = $("#loss-plot");
  if (!m.history.length) { plot.replaceChildren(el("p", { class: "empty", text: "no training history (an imported model)" })); return; }
  const W = 520, H = 240, pad = 44;
  const losses = m.history.map((h) => h.loss);
  const lo = Math.min(...losses), hi = Math.max(...losses), span = hi - lo || 1;
  const X = (i) => pad + (losses.length === 1 ? 0.5 : i / (losses.length - 1)) * (W - 2 * pad);
  const Y = (v) => H - pad - (v - lo) / span * (H - 2 * pad);
  const s = svg("svg", { width: "100%", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "loss per epoch", class: "loss" });
  s.append(svg("polyline", { points: losses.map((v, i) => `${X(i)},${Y(v)}`).join(" "), fill: "none", stroke: "#2f5fd0", "stroke-width": 2 }));
  losses.forEach((v, i) => {
    s.append(svg("circle", { cx: X(i), cy: Y(v), r: 3.5, fill: "#2f5fd0", class: "loss-point", "data-loss": v }));
    s.append(svg("text", { x: X(i), y: H - pad + 18, "text-anchor": "middle", "font-size": 11 }, `${m.history[i].epoch}`));
    s.append(svg("text", { x: X(i), y: Y(v) - 8, "text-anchor": "middle", "font-size": 11 }, fmt(v, 4)));
  });
  s.append(svg("text", { x: W / 2, y: H - 6, "text-anchor": "middle", "font-size": 11 }, "epoch"));
  plot.replaceChildren(s);
}

// -- start ---------------------------------------------------------------------------------

(async () => {
  try { MODEL = await api("/api/model"); } catch (e) { return; }
  const ideas = MODEL.suggestions.length ? MODEL.suggestions : MODEL.most_frequent.slice(5, 8);
  $("#word-input").placeholder = `a word or several, e.g. ${ideas.slice(0, 3).join(", ")}`;
  $("#map-input").placeholder = `a word, e.g. ${ideas[0] || ""}`;
  $("#text-query").placeholder = `query, e.g. ${ideas.slice(1, 3).join(" ")}`;
  $("#search-input").placeholder = `query, e.g. ${ideas.slice(2, 4).join(" ")}`;
  if (ideas.length > 1) { $("#word-plus").placeholder = `e.g. ${ideas[4] || ideas[1]}`; $("#word-minus").placeholder = `e.g. ${ideas[5] || ideas[0]}`; }
  if (!MODEL.index) $("#nav-search").classList.add("disabled");
  else {
    $("#search-mode").replaceChildren(...MODEL.index.modes.map((m) => el("option", { value: m, text: m })));
    $("#search-space").replaceChildren(...MODEL.index.spaces.map((s) => el("option", { value: s, text: SPACE_LABEL[s] })));
    $("#search-space").value = MODEL.index.space;
    $("#search-weight").value = defaultWeight(MODEL.index);
    if (MODEL.index.learned) $("#search-weight").placeholder = "learned";
  }
  if (!MODEL.docs) $("#nav-docs").remove();
  if (!MODEL.umap) {
    const o = document.querySelector("#projector-method option[value=umap]");
    o.disabled = true; o.textContent = "UMAP (pip install 'dualvec[explore]')";
  }
  if (MODEL.model_mismatch) {
    const b = $("#banner");
    b.textContent = `warning: ${MODEL.model_mismatch}.`;
    b.hidden = false;
  }
  window.addEventListener("hashchange", route);
  route();
})();
