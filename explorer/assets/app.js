// tailpolicy explorer: plain JS, no framework, no build step.
"use strict";

const $ = (sel) => document.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : String(c ?? ""));
  return e;
};
const css = (name) => parseFloat(getComputedStyle(document.documentElement).getPropertyValue(name));

const state = {
  etag: "",
  fragments: [],       // [{name, text}]
  sourceTab: null,     // fragment name shown
  grid: null,          // the grid answer
  cellIndex: new Map(),
  rows: [], cols: [],  // visible (filtered) indexes
  selected: null,
  timings: {},
};
window.explorer = state;

async function api(path, options) {
  const r = await fetch(path, options);
  const tag = r.headers.get("x-policy-etag");
  if (tag !== null && tag !== state.etag) {
    state.etag = tag;
    $("#etag").textContent = tag;
  }
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.message || `${r.status} ${r.statusText}`);
  return body;
}

function status(text) { $("#status").textContent = text; }

// ---------------------------------------------------------------- tabs

function show(view) {
  for (const b of document.querySelectorAll("#tabs button")) b.classList.toggle("active", b.dataset.view === view);
  for (const v of document.querySelectorAll(".view")) v.classList.toggle("active", v.id === `view-${view}`);
  const load = { ssh: loadSsh, tests: loadTests, audit: loadAudit, edit: openEditor }[view];
  if (load) load();
  if (view === "grid") renderGrid();
}
for (const b of document.querySelectorAll("#tabs button")) b.addEventListener("click", () => show(b.dataset.view));

// ---------------------------------------------------------------- rules and the source view

function ruleText(r) {
  if (!r.fragment) return "the default allow-all";
  return `${r.section}[${r.index}] ${r.fragment}:${r.line}`;
}

function ruleLink(r, onClick) {
  return el("span", { class: "rule-link", "data-line": r.line ?? "", "data-fragment": r.fragment ?? "",
    onclick: onClick || (() => jumpTo(r.fragment, r.line, r.endLine)) }, ruleText(r));
}

function ruleLinks(rules) {
  const span = el("span");
  rules.forEach((r, i) => { if (i) span.append(", "); span.append(ruleLink(r)); });
  return span;
}

function renderSourceTabs() {
  const tabs = $("#source-tabs");
  tabs.replaceChildren(...state.fragments.map((f) =>
    el("button", { class: f.name === state.sourceTab ? "active" : "", "data-fragment": f.name,
      onclick: () => { state.sourceTab = f.name; renderSource(); } }, f.name)));
}

let renderedSource = null; // the fragment object whose lines are in the DOM
function renderSource(hl) {
  renderSourceTabs();
  const f = state.fragments.find((x) => x.name === state.sourceTab);
  const box = $("#source");
  if (!f) { box.replaceChildren(); renderedSource = null; return; }
  if (renderedSource !== f) {
    const frag = document.createDocumentFragment();
    f.text.split("\n").forEach((t, i) => {
      frag.append(el("div", { class: "line", id: `src-line-${i + 1}` }, el("span", { class: "no" }, i + 1), t));
    });
    box.replaceChildren(frag);
    renderedSource = f;
  }
  for (const l of box.querySelectorAll(".line.hl")) l.classList.remove("hl");
  if (hl) {
    for (let n = hl[0]; n <= hl[1]; n++) document.getElementById(`src-line-${n}`)?.classList.add("hl");
    const target = document.getElementById(`src-line-${hl[0]}`);
    if (target) target.scrollIntoView({ block: "center" });
  }
}

function jumpTo(fragment, line, endLine) {
  if (!fragment) return;
  state.sourceTab = fragment;
  renderSource([line, endLine || line]);
}

async function loadFragments() {
  const f = await api("/explorer/api/fragments");
  state.fragments = f.fragments;
  if (!state.fragments.some((x) => x.name === state.sourceTab)) state.sourceTab = state.fragments[0]?.name ?? null;
  renderSource();
}

// ---------------------------------------------------------------- the grid (virtualised)

async function loadGrid() {
  const t0 = performance.now();
  status("loading the access grid…");
  const g = await api("/explorer/api/grid");
  const t1 = performance.now();
  state.grid = g;
  state.cellIndex = new Map();
  const n = g.cols.length;
  g.cells.forEach((c, i) => state.cellIndex.set(c[0] * n + c[1], i));
  $("#policy-name").textContent = g.policy;
  $("#row-names").replaceChildren(...g.rows.map((r) => el("option", { value: r.name })));
  $("#col-names").replaceChildren(...g.cols.map((c) => el("option", { value: c.name })));
  applyFilter();
  // Wait for the frame that shows it.
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  const t2 = performance.now();
  state.timings = { fetchMs: +(t1 - t0).toFixed(1), renderMs: +(t2 - t1).toFixed(1), totalMs: +(t2 - t0).toFixed(1),
    rows: g.rows.length, cols: g.cols.length, cells: g.cells.length,
    domCells: document.querySelectorAll("#grid-body .cell").length };
  status(`${g.cells.length} cells; fetched in ${state.timings.fetchMs} ms, rendered in ${state.timings.renderMs} ms`);
}

function applyFilter() {
  const g = state.grid;
  if (!g) return;
  const rf = $("#row-filter").value.trim().toLowerCase();
  const cf = $("#col-filter").value.trim().toLowerCase();
  const only = $("#only-access").checked;
  let rowsOn = null, colsOn = null;
  if (only) {
    rowsOn = new Set(); colsOn = new Set();
    for (const c of g.cells) { rowsOn.add(c[0]); colsOn.add(c[1]); }
  }
  state.rows = g.rows.map((_, i) => i).filter((i) => (!rowsOn || rowsOn.has(i)) && g.rows[i].name.toLowerCase().includes(rf));
  state.cols = g.cols.map((_, i) => i).filter((i) => (!colsOn || colsOn.has(i)) && g.cols[i].name.toLowerCase().includes(cf));
  $("#grid-count").textContent = `${state.rows.length} of ${g.rows.length} sources × ${state.cols.length} of ${g.cols.length} destinations`;
  const cw = css("--cw"), rh = css("--rh");
  const w = state.cols.length * cw, h = state.rows.length * rh;
  $("#grid-body .spacer").style.cssText = `width:${w}px;height:${h}px`;
  $("#grid-colhead .spacer").style.cssText = `width:${w + 40}px;height:1px`;
  $("#grid-rowhead .spacer").style.cssText = `width:1px;height:${h + 40}px`;
  renderGrid();
}

// A header's tooltip: its name, a user's groups, and what it holds.
function tooltip(a) {
  const lines = [a.name];
  if (a.groups.length) lines.push(`groups: ${a.groups.join(", ")}`);
  if (a.members.length && !(a.members.length === 1 && a.members[0] === a.name)) {
    lines.push(...a.members);
    if (a.memberCount > a.members.length) lines.push(`+${a.memberCount - a.members.length} more`);
  }
  return lines.join("\n");
}

let lastWindow = "";
function renderGrid(force = true) {
  const g = state.grid;
  if (!g) return;
  const body = $("#grid-body");
  const cw = css("--cw"), rh = css("--rh");
  const top = body.scrollTop, left = body.scrollLeft;
  const r0 = Math.max(0, Math.floor(top / rh) - 4), r1 = Math.min(state.rows.length, Math.ceil((top + body.clientHeight) / rh) + 4);
  const c0 = Math.max(0, Math.floor(left / cw) - 2), c1 = Math.min(state.cols.length, Math.ceil((left + body.clientWidth) / cw) + 2);
  const key = `${r0},${r1},${c0},${c1}`;
  $("#grid-colhead").scrollLeft = left;
  $("#grid-rowhead").scrollTop = top;
  if (!force && key === lastWindow) return;
  lastWindow = key;
  const n = g.cols.length;
  const cells = [body.firstElementChild];
  for (let ri = r0; ri < r1; ri++) {
    const r = state.rows[ri];
    for (let ci = c0; ci < c1; ci++) {
      const c = state.cols[ci];
      const idx = state.cellIndex.get(r * n + c);
      const cell = idx === undefined ? null : g.cells[idx];
      const text = cell ? cell[2] : "";
      let cls = "cell";
      if (cell) cls += text === "*" ? " on all" : " on";
      if (state.selected && state.selected[0] === r && state.selected[1] === c) cls += " sel";
      const d = el("div", { class: cls, "data-r": r, "data-c": c, "data-row": g.rows[r].name, "data-col": g.cols[c].name,
        title: cell ? `${g.rows[r].name} → ${g.cols[c].name}: ${text}` : "" }, text);
      d.style.top = `${ri * rh}px`; d.style.left = `${ci * cw}px`;
      cells.push(d);
    }
  }
  body.replaceChildren(...cells);
  const heads = [$("#grid-colhead").firstElementChild];
  for (let ci = c0; ci < c1; ci++) {
    const a = g.cols[state.cols[ci]];
    const d = el("div", { class: `ch kind-${a.kind}`, title: tooltip(a), "data-kind": a.kind, "data-name": a.name, "data-select": a.select }, a.name);
    d.style.left = `${ci * cw}px`;
    heads.push(d);
  }
  $("#grid-colhead").replaceChildren(...heads);
  const rows = [$("#grid-rowhead").firstElementChild];
  for (let ri = r0; ri < r1; ri++) {
    const a = g.rows[state.rows[ri]];
    const d = el("div", { class: `rh kind-${a.kind}`, title: tooltip(a), "data-kind": a.kind, "data-name": a.name, "data-select": a.select }, a.name);
    d.style.top = `${ri * rh}px`;
    rows.push(d);
  }
  $("#grid-rowhead").replaceChildren(...rows);
}

$("#grid-body").addEventListener("scroll", () => renderGrid(false), { passive: true });
window.addEventListener("resize", () => renderGrid());
for (const id of ["#row-filter", "#col-filter"]) $(id).addEventListener("input", applyFilter);
$("#only-access").addEventListener("change", applyFilter);

$("#grid-body").addEventListener("click", (ev) => {
  const d = ev.target.closest(".cell");
  if (!d) return;
  const r = +d.dataset.r, c = +d.dataset.c;
  state.selected = [r, c];
  renderGrid();
  showCell(r, c);
});

// A row header opens "from" that source; a column header "to" that destination.
$("#grid-rowhead").addEventListener("click", (ev) => {
  const h = ev.target.closest(".rh");
  if (!h) return;
  show("from");
  $("#from-input").value = h.dataset.select;
  $("#from-form").requestSubmit();
});
$("#grid-colhead").addEventListener("click", (ev) => {
  const h = ev.target.closest(".ch");
  if (!h || !/^(tag|host|user)$/.test(h.dataset.kind)) return;
  show("to");
  $("#to-input").value = h.dataset.select;
  $("#to-form").requestSubmit();
});

function showCell(r, c) {
  const g = state.grid;
  const idx = state.cellIndex.get(r * g.cols.length + c);
  const box = $("#cell-detail");
  const head = el("div", {}, el("b", {}, g.rows[r].name), " → ", el("b", {}, g.cols[c].name), ": ");
  if (idx === undefined) {
    head.append("no access");
    box.replaceChildren(head);
    return;
  }
  const cell = g.cells[idx];
  head.append(el("code", {}, cell[2]));
  const list = el("ul", { id: "cell-rules" });
  for (const i of cell[3]) list.append(el("li", {}, ruleLink(g.rules[i])));
  box.replaceChildren(head, el("div", {}, "Deciding rules:"), list);
  const first = g.rules[cell[3][0]];
  if (first) jumpTo(first.fragment, first.line, first.endLine);
}

// ---------------------------------------------------------------- from / to / SSH

function accessTable(rows, otherKey, otherTitle) {
  if (!rows.length) return el("p", {}, "No access.");
  const t = el("table", { class: "list" }, el("tr", {}, el("th", {}, otherTitle), el("th", {}, "ports"), el("th", {}, "devices"), el("th", {}, "rules")));
  for (const a of rows) t.append(el("tr", {}, el("td", {}, a[otherKey]), el("td", {}, el("code", {}, a.ports)), el("td", {}, a.devices.join(", ")), el("td", {}, ruleLinks(a.rules))));
  return t;
}

$("#from-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const box = $("#from-result");
  try {
    const a = await api(`/explorer/api/from?src=${encodeURIComponent($("#from-input").value)}`);
    box.replaceChildren(accessTable(a.access, "to", "destination"));
  } catch (e) { box.replaceChildren(el("p", { class: "fail" }, e.message)); }
});

$("#to-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const box = $("#to-result");
  try {
    const a = await api(`/explorer/api/to?dst=${encodeURIComponent($("#to-input").value)}`);
    box.replaceChildren(accessTable(a.access, "from", "source"));
  } catch (e) { box.replaceChildren(el("p", { class: "fail" }, e.message)); }
});

async function loadSsh() {
  const box = $("#ssh-result");
  try {
    const s = await api("/explorer/api/ssh");
    if (!s.rules.length) { box.replaceChildren(el("p", {}, "The policy has no SSH rules.")); return; }
    const t = el("table", { class: "list" }, el("tr", {}, ...["action", "from", "to", "as", "check period", "rule"].map((h) => el("th", {}, h))));
    const names = (sel, devices) => el("div", {}, sel.join(", "), el("div", { class: "devices" }, devices.join(", ")));
    for (const r of s.rules) t.append(el("tr", {}, el("td", {}, r.action), el("td", {}, names(r.src, r.srcDevices)), el("td", {}, names(r.dst, r.dstDevices)), el("td", {}, r.users.join(", ")), el("td", {}, r.checkPeriod ?? ""), el("td", {}, ruleLink(r.rule))));
    box.replaceChildren(t);
  } catch (e) { box.replaceChildren(el("p", { class: "fail" }, e.message)); }
}

// ---------------------------------------------------------------- tests and audit

async function loadTests() {
  const box = $("#tests-result");
  try {
    const t = await api("/explorer/api/tests");
    if (!t.tests.length) { box.replaceChildren(el("p", {}, "The policy has no tests or sshTests.")); return; }
    const passed = t.tests.filter((x) => x.passed).length;
    const table = el("table", { class: "list" }, el("tr", {}, ...["", "section", "src", "assertions", "rule"].map((h) => el("th", {}, h))));
    for (const x of t.tests) {
      const ul = el("ul");
      for (const a of x.assertions) ul.append(el("li", { class: a.passed ? "pass" : "fail" }, `${a.passed ? "✓" : "✗"} ${a.expect} ${a.target}`, a.failure ? `: ${a.failure}` : "", a.rules.length ? " (" : "", a.rules.length ? ruleLinks(a.rules) : "", a.rules.length ? ")" : ""));
      if (x.message) ul.append(el("li", { class: "fail" }, x.message));
      table.append(el("tr", {}, el("td", { class: x.passed ? "pass" : "fail" }, x.passed ? "pass" : "FAIL"), el("td", {}, x.section), el("td", {}, x.src ?? ""), el("td", {}, ul), el("td", {}, ruleLink(x.rule))));
    }
    box.replaceChildren(el("p", { class: t.passed ? "pass" : "fail" }, `${passed} of ${t.tests.length} passed`), table);
  } catch (e) { box.replaceChildren(el("p", { class: "fail" }, e.message)); }
}

async function loadAudit() {
  const box = $("#audit-result");
  try {
    const a = await api("/explorer/api/audit");
    if (!a.findings.length) { box.replaceChildren(el("p", { class: "pass" }, "The audit found nothing.")); return; }
    const t = el("table", { class: "list" }, el("tr", {}, ...["code", "finding", "where"].map((h) => el("th", {}, h))));
    for (const f of a.findings) t.append(el("tr", {}, el("td", {}, el("code", {}, f.code), " ", f.name), el("td", {}, f.message, f.help ? el("div", { class: "help" }, f.help) : ""), el("td", {}, ruleLink({ section: "", index: "", ...f }))));
    box.replaceChildren(t);
  } catch (e) { box.replaceChildren(el("p", { class: "fail" }, e.message)); }
}

// ---------------------------------------------------------------- the what-if editor

const editor = { base: null, fragment: null, timer: null, seq: 0, diags: [] };

async function openEditor() {
  const sel = $("#edit-fragment");
  if (!sel.options.length || editor.fragment === null) {
    sel.replaceChildren(...state.fragments.map((f) => el("option", { value: f.name }, f.name)));
    editor.fragment = state.fragments[0]?.name ?? null;
    resetEditor();
  }
  const single = state.fragments.length === 1;
  $("#save").disabled = !single;
  if (!single) $("#save-status").textContent = "saving needs a one-file policy (the API stores one document)";
}

function resetEditor() {
  editor.fragment = $("#edit-fragment").value || editor.fragment;
  const f = state.fragments.find((x) => x.name === editor.fragment);
  $("#editor-text").value = f ? f.text : "";
  editor.base = null;
  // The version this edit starts from: what Save sends as If-Match.
  fetch("/api/v2/tailnet/-/acl").then((r) => { if (r.ok) editor.base = r.headers.get("etag"); }).catch(() => {});
  updateGutter();
  whatIf();
}

$("#edit-fragment").addEventListener("change", resetEditor);
$("#edit-reset").addEventListener("click", resetEditor);

function updateGutter() {
  const ta = $("#editor-text");
  const n = ta.value.split("\n").length;
  const marks = new Map();
  for (const d of editor.diags) {
    if (d.fragment !== editor.fragment) continue;
    for (let l = d.line; l <= Math.max(d.line, d.endLine); l++) {
      if (marks.get(l) !== "err") marks.set(l, d.severity === "error" ? "err" : "warn");
    }
  }
  const g = $("#editor-gutter");
  const frag = document.createDocumentFragment();
  for (let i = 1; i <= n; i++) {
    const m = marks.get(i);
    frag.append(m ? el("span", { class: m, id: `gutter-${i}` }, i) : String(i), "\n");
  }
  g.replaceChildren(frag);
  g.scrollTop = ta.scrollTop;
}

$("#editor-text").addEventListener("scroll", () => { $("#editor-gutter").scrollTop = $("#editor-text").scrollTop; });
$("#editor-text").addEventListener("input", () => {
  updateGutter();
  clearTimeout(editor.timer);
  editor.timer = setTimeout(whatIf, 300);
});

function editorLine(line) {
  const ta = $("#editor-text");
  const lines = ta.value.split("\n");
  let at = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) at += lines[i].length + 1;
  ta.focus();
  ta.setSelectionRange(at, at + (lines[line - 1] ?? "").length);
  const lh = parseFloat(getComputedStyle(ta).lineHeight) || 18;
  ta.scrollTop = Math.max(0, (line - 5) * lh);
}

async function whatIf() {
  if (editor.fragment === null) return;
  const seq = ++editor.seq;
  let w;
  try {
    w = await api("/explorer/api/whatif", { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ fragment: editor.fragment, text: $("#editor-text").value }) });
  } catch (e) { $("#whatif-summary").textContent = e.message; return; }
  if (seq !== editor.seq) return; // a newer edit is on its way
  editor.diags = w.diagnostics;
  updateGutter();
  const diags = $("#diags");
  const list = w.diagnostics.map((d) => el("div", { class: `diag ${d.severity}`, "data-line": d.line,
    onclick: () => (d.fragment === editor.fragment ? editorLine(d.line) : jumpTo(d.fragment, d.line, d.endLine)) },
    `${d.fragment}:${d.line}:${d.column} ${d.severity} ${d.code}: ${d.message}`));
  diags.replaceChildren(...list);
  const errors = w.diagnostics.filter((d) => d.severity === "error").length;
  const box = $("#diff");
  let summary = errors ? `${errors} error(s): the API would refuse this policy. ` : "No errors. ";
  if (w.changes === null) {
    summary += "No access diff: the policy does not parse.";
    box.replaceChildren();
  } else if (!w.changes.length) {
    summary += "Access is unchanged.";
    box.replaceChildren();
  } else {
    const gained = w.changes.filter((c) => c.change === "gained").length;
    summary += `Access changes: ${gained} gained, ${w.changes.length - gained} lost.`;
    const t = el("table", { class: "list" }, el("tr", {}, ...["", "source", "destination", "ports", "rules"].map((h) => el("th", {}, h))));
    for (const c of w.changes) {
      const links = el("span");
      c.rules.forEach((r, i) => {
        if (i) links.append(", ");
        // Gained access comes from the edited text, lost access from the accepted one.
        links.append(c.change === "gained" && r.fragment === editor.fragment ? ruleLink(r, () => editorLine(r.line)) : ruleLink(r));
      });
      t.append(el("tr", { class: c.change }, el("td", {}, c.change === "gained" ? "+ gained" : "− lost"), el("td", { title: c.devices.src.join("\n") }, c.src, c.groups.length ? el("span", { class: "groups" }, ` (${c.groups.join(", ")})`) : ""),
        el("td", { title: c.devices.dst.join("\n") }, c.dst), el("td", {}, el("code", {}, c.ports)), el("td", {}, links)));
    }
    box.replaceChildren(t);
  }
  $("#whatif-summary").textContent = summary;
}

$("#save").addEventListener("click", async () => {
  const out = $("#save-status");
  out.className = ""; out.textContent = "saving…";
  try {
    const cur = await fetch("/api/v2/tailnet/-/acl", { headers: { accept: "application/hujson" } });
    if (!cur.ok) throw new Error(`GET acl: ${cur.status}`);
    const base = editor.base ?? cur.headers.get("etag");
    const r = await fetch("/api/v2/tailnet/-/acl", { method: "POST", headers: { "content-type": "application/hujson", "if-match": base ?? "" }, body: $("#editor-text").value });
    const text = await r.text();
    if (!r.ok) {
      let msg = text;
      try { const j = JSON.parse(text); msg = j.message + (j.data ? ": " + JSON.stringify(j.data) : ""); } catch (_) { /* plain text */ }
      throw new Error(`${r.status}: ${msg}`);
    }
    const tag = r.headers.get("etag") ?? (await fetch("/api/v2/tailnet/-/acl")).headers.get("etag");
    out.className = "ok"; out.textContent = `saved; new ETag ${tag}`;
    out.dataset.etag = tag ?? "";
    editor.base = tag; // the next edit starts from what was just saved
    await Promise.all([loadFragments(), loadGrid()]);
    whatIf();
  } catch (e) {
    out.className = "bad"; out.textContent = `not saved: ${e.message}`;
  }
});

// ---------------------------------------------------------------- start

(async () => {
  try {
    await loadFragments();
    await loadGrid();
  } catch (e) { status(`error: ${e.message}`); }
})();
