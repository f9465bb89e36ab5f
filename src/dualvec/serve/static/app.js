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

function fmt(x, digits = 3) { return x === null || x === undefined ? "–" : Number(x).toFixed(digits); }

// -- views and navigation ------------------------------------------------------------------

function show(view) {
  for (const s of document.querySelectorAll(".view")) s.hidden = s.id !== `view-${view}`;
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.view === view);
}

function route() {
  const [view, arg] = (location.hash.slice(1) || "word").split("=");
  const value = arg ? decodeURIComponent(arg) : "";
  show(view);
  if (view === "word" && value) { $("#word-input").value = value; loadNeighbors(); }
  if (view === "map" && value) { $("#map-input").value = value; loadMap(); }
  if (view === "search" && value) { $("#search-input").value = value; loadSearch(); }
  if (view === "model") loadModel();
}

function go(view, value) {
  const hash = value ? `${view}=${encodeURIComponent(value)}` : view;
  if (location.hash.slice(1) === hash) route(); else location.hash = hash;
}

// -- word view -----------------------------------------------------------------------------

let completionTimer = null;
$("#word-input").addEventListener("input", () => {
  clearTimeout(completionTimer);
  const prefix = $("#word-input").value.trim();
  if (!prefix) return;
  completionTimer = setTimeout(async () => {
    const r = await fetch(`/api/complete?prefix=${encodeURIComponent(prefix)}&limit=12`);
    if (!r.ok) return;
    const words = await r.json();
    $("#completions").replaceChildren(...words.map((w) => el("option", { value: w })));
  }, 120);
});

$("#word-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const word = $("#word-input").value.trim();
  if ($("#word-plus").value.trim() || $("#word-minus").value.trim()) loadNeighbors();
  else go("word", word);
});

async function apiOrEmpty(path, view) {
  // The view's data, or null with the view emptied: api() has already shown the error.
  try { return await api(path); } catch (e) { view.replaceChildren(); return null; }
}

async function loadNeighbors() {
  const params = new URLSearchParams();
  const word = $("#word-input").value.trim();
  if (!word) return;
  params.append("positive", word);
  for (const w of $("#word-plus").value.split(/[\s,]+/).filter(Boolean)) params.append("positive", w);
  for (const w of $("#word-minus").value.split(/[\s,]+/).filter(Boolean)) params.append("negative", w);
  params.set("topn", $("#word-topn").value || "10");
  const columns = $("#columns");
  const data = await apiOrEmpty(`/api/neighbors?${params}`, columns);
  if (!data) return;
  columns.replaceChildren(...Object.entries(data.columns).map(([space, col]) => {
    const title = el("h3", {}, SPACE_LABEL[space]);
    if (col.approximate) title.append(" ", el("span", { class: "approx", text: "(approximate: hierarchical softmax)" }));
    const list = col.neighbors.length
      ? el("ol", {}, ...col.neighbors.map((n) => el("li", {},
          el("a", { href: `#word=${encodeURIComponent(n.word)}`, class: "neighbor", "data-word": n.word, text: n.word }),
          el("span", { class: "cos", text: fmt(n.cos) }))))
      : el("p", { class: "empty", text: "no neighbours" });
    return el("div", { class: "column", "data-space": space }, title, list);
  }));
}

// -- map view ------------------------------------------------------------------------------

$("#map-form").addEventListener("submit", (e) => { e.preventDefault(); go("map", $("#map-input").value.trim()); });

async function loadMap() {
  const word = $("#map-input").value.trim();
  if (!word) return;
  const data = await apiOrEmpty(`/api/map?word=${encodeURIComponent(word)}&topn=15`, $("#maps"));
  if (!data) return;
  $("#maps").replaceChildren(...Object.entries(data.panels).map(([space, panel]) => {
    const W = 520, H = 420, pad = 50;
    const plot = svg("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img",
                              "aria-label": `${SPACE_LABEL[space]} neighbourhood of ${word}` });
    for (const p of panel.points) {
      const x = pad + (p.x + 1) / 2 * (W - 2 * pad), y = pad + (1 - (p.y + 1) / 2) * (H - 2 * pad);
      plot.append(svg("circle", { cx: x, cy: y, r: p.query ? 5 : 3.5, fill: p.query ? "#b3261e" : space === "in-out" ? "rgb(214,96,40)" : "rgb(47,95,208)" }));
      const label = svg("text", { x: x + 6, y: y + 4, class: p.query ? "query" : "" }, p.word);
      plot.append(label);
    }
    const title = el("h3", {}, `${SPACE_LABEL[space]}: ${space === "in-in" ? "same type" : "occurs with"}`);
    if (panel.approximate) title.append(" (approximate)");
    return el("div", { class: "map", "data-space": space }, title, plot);
  }));
}

// -- text view -----------------------------------------------------------------------------

$("#text-form").addEventListener("submit", (e) => { e.preventDefault(); loadText(); });
$("#text-passage").addEventListener("input", () => { $("#text-doc").value = ""; });

function shade(target, tokens, space, rgb, queryTerms) {
  // Cosines are shaded relative to the passage's largest (the query's own words left out, as they
  // would always win), so weak and strong models both show contrast.
  const own = new Set(queryTerms);
  const values = tokens.filter((t) => !own.has(t.text.toLowerCase())).map((t) => t[space]).filter((v) => v !== undefined);
  const top = Math.max(1e-6, ...values);
  target.replaceChildren(...tokens.map((t) => {
    if (t[space] === undefined) return document.createTextNode(t.text);
    const alpha = Math.min(1, Math.max(0, t[space]) / top);
    return el("span", { class: "tok", "data-cos": t[space], title: `cos ${fmt(t[space])}`,
                        style: `background: rgba(${rgb}, ${(0.85 * alpha).toFixed(3)})` }, t.text);
  }));
}

async function loadText() {
  const body = { query: $("#text-query").value };
  if ($("#text-doc").value) body.doc_id = $("#text-doc").value; else body.passage = $("#text-passage").value;
  let data;
  try {
    data = await api("/api/text", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  } catch (e) { return; }
  if (data.doc_id) $("#text-passage").value = data.tokens.map((t) => t.text).join("");
  shade($("#shade-in-out"), data.tokens, "in-out", "214, 96, 40", data.query_terms);
  shade($("#shade-in-in"), data.tokens, "in-in", "47, 95, 208", data.query_terms);
  document.querySelector(".approx-note").textContent = data.approximate ? "(approximate: hierarchical softmax)" : "";
  const s = data.scores;
  const parts = [el("span", {}, "DESM IN-OUT ", el("b", { id: "desm-in-out", text: fmt(s["desm_in-out"]) })),
                 " · ", el("span", {}, "DESM IN-IN ", el("b", { id: "desm-in-in", text: fmt(s["desm_in-in"]) }))];
  if (s.bm25 !== null) parts.push(" · ", el("span", {}, "BM25 ", el("b", { id: "bm25", text: fmt(s.bm25, 2) })));
  if (data.unknown_query_terms.length) parts.push(` · not in the model: ${data.unknown_query_terms.join(", ")}`);
  if (!data.query_terms.length) status("no query word is in the model: nothing to shade", "error");
  $("#text-scores").replaceChildren(...parts);
}

function openDocument(docId, query) {
  $("#text-query").value = query;
  $("#text-doc").value = docId;
  $("#text-passage").value = "";
  go("text");
  loadText();
}

// -- search view ---------------------------------------------------------------------------

$("#search-form").addEventListener("submit", (e) => { e.preventDefault(); go("search", $("#search-input").value.trim()); });

async function loadSearch() {
  const q = $("#search-input").value.trim();
  if (!q) return;
  const data = await apiOrEmpty(`/api/search?q=${encodeURIComponent(q)}&k=10`, $("#results"));
  if (!data) return;
  const meta = [`stages: ${data.stages.join(" → ")} (DESM ${data.space}, α ${data.alpha})`];
  for (const [stage, terms] of Object.entries(data.expansion))
    meta.push(`${stage} added: ${terms.map((t) => `${t.term} ${fmt(t.weight)}`).join(", ")}`);
  if (data.message) meta.push(data.message);
  $("#search-meta").replaceChildren(...meta.map((m) => el("div", { text: m })));
  $("#results").replaceChildren(...data.results.map((r) => el("li", { "data-doc": r.doc_id },
    el("div", { class: "doc-head" },
      el("a", { href: "#text", class: "doc-id", text: r.doc_id, onclick: (e) => { e.preventDefault(); openDocument(r.doc_id, q); } }),
      el("span", { text: `score ${fmt(r.score)} · BM25 ${fmt(r.bm25, 2)} · DESM ${fmt(r.desm)}` })),
    el("div", { class: "terms", text: "BM25: " + (r.bm25_terms.filter((t) => t.score).map((t) => `${t.term} ${fmt(t.score, 2)}`).join(", ") || "–")
      + " · DESM: " + (r.desm_terms.map((t) => `${t.term} ${fmt(t.score)}`).join(", ") || "–") }),
    r.snippet ? el("p", { class: "snippet", text: r.snippet + (r.snippet.length >= 300 ? "…" : "") }) : "")));
}

// -- model view ----------------------------------------------------------------------------

async function loadModel() {
  const m = MODEL || (MODEL = await api("/api/model"));
  const rows = [["words", m.words.toLocaleString()], ["dimensions", m.vector_size],
                ["OUT space", (m.out_space || "none") + (m.out_is_approximate ? " — an approximation" : "")],
                ["tokeniser", m.tokenizer || "not recorded"], ["corpus words", m.corpus_words ? m.corpus_words.toLocaleString() : "unknown"],
                ["index", m.index ? `${m.index.documents.toLocaleString()} documents` : "none (start with --index)"]];
  for (const [k, v] of Object.entries(m.params || {})) rows.push([`  ${k}`, String(v)]);
  $("#model-table").replaceChildren(...rows.map(([k, v]) => el("tr", {}, el("td", { text: k }), el("td", { text: String(v) }))));
  const plot = $("#loss-plot");
  if (!m.history.length) { plot.replaceChildren(el("p", { class: "empty", text: "no training history (an imported model)" })); return; }
  const W = 520, H = 240, pad = 44;
  const losses = m.history.map((h) => h.loss);
  const lo = Math.min(...losses), hi = Math.max(...losses), span = hi - lo || 1;
  const X = (i) => pad + (losses.length === 1 ? 0.5 : i / (losses.length - 1)) * (W - 2 * pad);
  const Y = (v) => H - pad - (v - lo) / span * (H - 2 * pad);
  const s = svg("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "loss per epoch" });
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
  $("#word-input").placeholder = `a word, e.g. ${MODEL.most_frequent.slice(5, 8).join(", ")}`;
  if (!MODEL.index) $("#nav-search").classList.add("disabled");
  window.addEventListener("hashchange", route);
  route();
})();
