/* salesbot console: a Telegram Mini App. Plain JS, no build step.
 * Every API call carries "Authorization: tma <initData>"; every string from the server goes into the
 * page with textContent (never innerHTML). Words come from GET /api/app/me (core/texts_console.py). */
"use strict";
(function () {
  const tg = window.Telegram && window.Telegram.WebApp;
  const root = document.getElementById("app");
  const state = { me: null, T: {}, team: null, period: "all", stack: [], charts: [] };

  // --- small helpers -------------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "on") for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.appendChild(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
    }
    return node;
  }
  function T(key, values) {
    let s = state.T[key] || key;
    for (const [k, v] of Object.entries(values || {})) s = s.split("{" + k + "}").join(String(v));
    return s;
  }
  const pct = (v) => (v === null || v === undefined ? "—" : Math.round(v) + "%");
  const num = (v) => (v === null || v === undefined ? "—" : String(v));
  function when(iso) {
    if (!iso) return "—";
    const d = new Date(iso);
    const pad = (n) => String(n).padStart(2, "0");
    return `${d.getMonth() + 1}/${d.getDate()} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }
  function cssVar(name, fallback) {
    const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return v || fallback;
  }

  class ApiError extends Error {
    constructor(status, body) { super(body && body.reason || String(status)); this.status = status; this.body = body; }
  }
  async function api(path, method, body) {
    const opts = { method: method || "GET", headers: { Authorization: "tma " + initData() } };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    const resp = await fetch("/api/app/" + path, opts);
    let answer = null;
    try { answer = await resp.json(); } catch (e) { answer = null; }
    if (!resp.ok) throw new ApiError(resp.status, answer);
    return answer;
  }
  function initData() { return (tg && tg.initData) || ""; }

  // --- screens -------------------------------------------------------------------------------
  function clearCharts() { state.charts.forEach((c) => c.destroy()); state.charts = []; }
  function render(...nodes) {
    clearCharts();
    root.replaceChildren(...nodes.flat().filter((n) => n !== null && n !== undefined && n !== false));
    if (tg && tg.BackButton) { state.stack.length ? tg.BackButton.show() : tg.BackButton.hide(); }
    window.scrollTo(0, 0);
  }
  function go(fn) { state.stack.push(state.current); state.current = fn; fn(); }
  function back() { const prev = state.stack.pop(); if (prev) { state.current = prev; prev(); } }
  function backLink() { return state.stack.length ? el("button", { class: "link back", "data-testid": "back", on: { click: back } }, T("back")) : null; }

  function showError(err) {
    let key = "error_other";
    if (err instanceof ApiError) key = { 401: "error_auth", 403: "error_member", 404: "error_notfound" }[err.status] || key;
    if (!state.T[key]) state.T = Object.assign(fallbackTexts(), state.T);
    document.body.dataset.state = "error";
    if (window.__stateMs === undefined) window.__stateMs = performance.now();
    render(el("div", { class: "error", role: "alert", "data-testid": "error", "data-status": err.status || "" }, T(key)));
  }
  function fallbackTexts() {  // before /me answers, the only words needed are the errors
    const en = ((tg && tg.initDataUnsafe && tg.initDataUnsafe.user && tg.initDataUnsafe.user.language_code) || navigator.language || "").startsWith("en");
    return en ? { error_auth: "We could not verify who you are. Please reopen the dashboard from the bot.",
                  error_member: "You are not a team member yet.", error_other: "Something went wrong. Please try again.",
                  error_notfound: "Not found." }
              : { error_auth: "无法验证您的身份，请从机器人里重新打开看板。", error_member: "您还不是团队成员，请先通过邀请链接加入。",
                  error_other: "出错了，请稍后再试。", error_notfound: "找不到该内容，或您无权查看。" };
  }

  function filters() {
    const me = state.me;
    const bar = el("div", { class: "filters" });
    if (me.teams.length > 1) {
      const sel = el("select", { "data-testid": "team", "aria-label": T("team"), on: { change: (e) => { state.team = e.target.value; dashboard(); } } },
        me.teams.map((t) => el("option", { value: t.id, selected: String(t.id) === String(state.team) }, t.name)));
      bar.appendChild(el("label", {}, T("team") + " ", sel));
    }
    const per = el("select", { "data-testid": "period", "aria-label": T("period"), on: { change: (e) => { state.period = e.target.value; dashboard(); } } },
      me.periods.map((p) => el("option", { value: p, selected: p === state.period }, T("period_" + p))));
    bar.appendChild(el("label", {}, T("period") + " ", per));
    return bar;
  }

  function funnelSection(f) {
    const title = f.scope === "mine" ? T("my_funnel") : T("funnel");
    const canvas = el("canvas", { id: "funnel-chart", height: 220, "aria-label": title, role: "img" });
    const rows = f.stages.map((s) => el("tr", { "data-stage": s.id, class: f.bottleneck && f.bottleneck.id === s.id ? "hot" : null },
      el("th", { scope: "row" }, s.label),
      el("td", { class: "reached" }, num(s.reached)),
      el("td", { class: "current" }, num(s.current)),
      el("td", { class: "conversion" }, pct(s.conversion)),
      el("td", { class: "median" + (s.median_days !== null && s.median_days > s.expected_days ? " late" : "") },
        (s.median_days === null ? "—" : s.median_days) + " / " + s.expected_days + T("days")),
      el("td", { class: "stalled" }, num(s.stalled))));
    const table = el("table", { class: "grid", "data-testid": "funnel-table" },
      el("thead", {}, el("tr", {}, [T("stage"), T("reached"), T("current"), T("conversion"), T("median") + " / " + T("expected"), T("stalled")]
        .map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, rows));
    const b = f.bottleneck;
    const note = el("p", { class: b ? "bottleneck" : "muted", "data-testid": "bottleneck" },
      b ? T("bottleneck", { stage: b.label, stalled: b.stalled, current: b.current }) : T("no_bottleneck"));
    const totals = el("p", { class: "muted" }, `${T("won")} ${f.won} · ${T("lost")} ${f.lost}`);
    return { node: el("section", { "data-testid": "funnel" }, el("h2", {}, title), el("div", { class: "chart" }, canvas), note, el("div", { class: "scroll" }, table), totals),
             draw: () => drawFunnel(canvas, f) };
  }

  function drawFunnel(canvas, f) {
    const text = cssVar("--tg-theme-text-color", "#222");
    const button = cssVar("--tg-theme-button-color", "#2481cc");
    const hint = cssVar("--tg-theme-hint-color", "#999");
    const chart = new Chart(canvas, {
      type: "bar",
      data: { labels: f.stages.map((s) => s.label),
              datasets: [{ label: T("reached"), data: f.stages.map((s) => s.reached), backgroundColor: hint },
                         { label: T("current"), data: f.stages.map((s) => s.current), backgroundColor: button }] },
      options: { indexAxis: "y", responsive: true, maintainAspectRatio: false, animation: false,
                 plugins: { legend: { labels: { color: text } } },
                 scales: { x: { ticks: { color: text, precision: 0 } }, y: { ticks: { color: text } } } },
    });
    state.charts.push(chart);
    markFirstChart();
  }
  function markFirstChart() {  // ms since navigation start (the bench reads it)
    if (window.__firstChartMs === undefined) window.__firstChartMs = performance.now();
  }

  function boardSection(b) {
    const groups = new Set(b.rows.map((r) => r.group)).size;
    const rows = b.rows.map((r) => el("tr", { "data-user": r.user_id, class: b.full || r.user_id === state.me.id ? "clickable" : null,
      on: b.full || r.user_id === state.me.id ? { click: () => go(() => repView(r.user_id)) } : {} },
      el("td", {}, String(r.rank)), el("th", { scope: "row" }, r.name, groups > 1 ? el("span", { class: "muted small" }, " " + r.group) : null), el("td", {}, pct(r.share)), el("td", {}, num(r.points)),
      el("td", {}, pct(r.compliance)), el("td", {}, pct(r.quality)), el("td", {}, num(r.deals))));
    return el("section", { "data-testid": "board" }, el("h2", {}, T("board") + " · " + b.period_label),
      el("p", { class: "muted" }, T("board_note")),
      el("div", { class: "scroll" }, el("table", { class: "grid" },
        el("thead", {}, el("tr", {}, [T("rank"), T("name"), T("share"), T("points"), T("compliance"), T("quality"), T("deals")].map((h) => el("th", { scope: "col" }, h)))),
        el("tbody", {}, rows))));
  }

  function riskTags(risks) {
    return risks.map((r) => el("span", { class: "tag risk-" + r }, T("risk_" + r)));
  }
  function customerList(list, testid) {
    if (!list.length) return el("p", { class: "muted" }, T("none"));
    return el("ul", { class: "list", "data-testid": testid }, list.map((c) =>
      el("li", { class: "clickable", "data-customer": c.id, on: { click: () => go(() => customerView(c.id)) } },
        el("div", { class: "row" }, el("b", {}, c.name), el("span", { class: "muted" }, " " + (c.company || ""))),
        el("div", { class: "row small" }, el("span", { class: "tag" }, c.stage_label), " ", c.days_in_stage + T("days"),
          c.owner ? el("span", { class: "muted" }, " · " + c.owner) : null, " ", ...riskTags(c.risks)))));
  }
  function byStage(list, counts) {
    return el("div", { class: "chips", "data-testid": "by-stage" }, list.map((s) => el("span", { class: "chip", "data-stage": s.id }, `${s.label} ${s.count}`)),
      Object.entries(counts || {}).map(([k, v]) => el("span", { class: "chip risk-" + k, "data-risk": k }, `${T("risk_" + k)} ${v}`)));
  }

  async function dashboard() {
    state.current = dashboard;
    const q = new URLSearchParams({ period: state.period });
    if (state.team) q.set("team", state.team);
    let data;
    try { data = await api("dashboard?" + q); } catch (e) { return showError(e); }
    const f = funnelSection(data.funnel);
    const parts = [filters(), f.node, boardSection(data.board)];
    if (data.mine) {
      parts.splice(1, 0, el("section", { class: "stats", "data-testid": "mine" }, el("div", {}, el("span", { class: "muted" }, T("balance")), el("b", {}, String(data.mine.balance)))));
      parts.push(el("section", {}, el("h2", {}, T("my_customers")), byStage(data.mine.by_stage, data.mine.risk_counts), customerList(data.mine.customers, "my-customers")));
    }
    if (state.me.role !== "rep") parts.push(el("button", { class: "primary", "data-testid": "open-playbook", on: { click: () => go(playbookView) } }, T("pb_open")));
    render(el("h1", {}, T("title") + (state.me.team ? " · " + currentTeamName() : "")), ...parts);
    f.draw();
    document.body.dataset.state = "ready";
  }
  function currentTeamName() {
    const t = state.me.teams.find((x) => String(x.id) === String(state.team));
    return t ? t.name : state.me.team.name;
  }

  async function repView(id) {
    let r;
    try { r = await api("reps/" + id); } catch (e) { return showError(e); }
    const canvas = el("canvas", { id: "radar-chart", height: 260, role: "img", "aria-label": T("radar") });
    render(backLink(),
      el("h1", { "data-testid": "rep-name" }, r.name),
      el("section", { class: "stats" },
        el("div", {}, el("span", { class: "muted" }, T("kpi")), el("b", {}, String(r.kpi))),
        el("div", {}, el("span", { class: "muted" }, T("balance")), el("b", {}, String(r.balance))),
        el("div", {}, el("span", { class: "muted" }, T("compliance")), el("b", {}, pct(r.compliance))),
        el("div", {}, el("span", { class: "muted" }, T("quality")), el("b", {}, pct(r.quality)))),
      el("section", {}, el("h2", {}, T("radar")), el("div", { class: "chart" }, canvas),
        el("p", { class: "weakest", "data-testid": "weakest" }, el("b", {}, T("weakest", { dim: r.weakest.label })), " ", r.weakest.hint)),
      el("section", {}, el("h2", {}, T("customers")), byStage(r.by_stage, r.risk_counts), customerList(r.customers, "rep-customers")),
      el("section", {}, el("h2", {}, T("timeline")), timeline(r.timeline, true)));
    const text = cssVar("--tg-theme-text-color", "#222");
    state.charts.push(new Chart(canvas, {
      type: "radar",
      data: { labels: r.dimensions.map((d) => d.label),
              datasets: [{ label: r.name, data: r.dimensions.map((d) => d.score), borderColor: cssVar("--tg-theme-button-color", "#2481cc"), backgroundColor: "rgba(36,129,204,0.2)" },
                         { label: T("team_avg"), data: r.dimensions.map((d) => d.team_avg), borderColor: cssVar("--tg-theme-hint-color", "#999"), backgroundColor: "rgba(153,153,153,0.1)" }] },
      options: { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { labels: { color: text } } },
                 scales: { r: { min: 0, max: 100, ticks: { display: false }, pointLabels: { color: text } } } },
    }));
    markFirstChart();
  }

  function timeline(items, withCustomer) {
    if (!items.length) return el("p", { class: "muted" }, T("none"));
    return el("ul", { class: "timeline", "data-testid": "timeline" }, items.map((a) =>
      el("li", {}, el("span", { class: "muted" }, when(a.at) + " "), el("span", { class: "tag" }, a.kind_label || a.kind), " ",
        withCustomer && a.customer ? el("b", {}, a.customer + " ") : null, a.by ? el("span", { class: "muted" }, a.by + " ") : null, a.text || "")));
  }

  async function customerView(id) {
    let c;
    try { c = await api("customers/" + id); } catch (e) { return showError(e); }
    const simple = (title, rows, fn) => el("section", {}, el("h3", {}, title), rows.length ? el("ul", { class: "timeline" }, rows.map(fn)) : el("p", { class: "muted" }, T("none")));
    render(backLink(),
      el("h1", { "data-testid": "customer-name" }, c.name), el("p", { class: "muted" }, c.company || ""),
      el("p", {}, el("span", { class: "tag" }, c.stage_label), " ", c.days_in_stage + T("days"), " · ", T("owner"), " ", c.owner || "—", " ", ...riskTags(c.risks),
        c.intent_score !== null ? el("span", { class: "muted" }, ` · ${T("intent")} ${c.intent_score}`) : null),
      el("section", {}, el("h2", {}, T("activities")), timeline(c.activities, false)),
      simple(T("analyses"), c.analyses, (a) => el("li", {}, el("span", { class: "muted" }, when(a.at) + " "), `${T("intent")} ${a.score} (${a.level}) `, a.objections.join("、"))),
      simple(T("stage_moves"), c.stage_moves, (m) => el("li", {}, el("span", { class: "muted" }, when(m.at) + " "), `${m.from || "·"} → ${m.to}`, m.by ? el("span", { class: "muted" }, " " + m.by) : null)),
      simple(T("field_history"), c.field_history, (f) => el("li", {}, el("span", { class: "muted" }, when(f.at) + " "), `${f.field}: ${f.value || "—"} `, el("span", { class: "muted" }, f.source))),
      simple(T("owner_history"), c.owner_history, (o) => el("li", {}, el("span", { class: "muted" }, when(o.at) + " "), el("span", { class: "tag" }, o.kind_label), " ", o.by || "")));
  }

  // --- the playbook editor (低代码) -------------------------------------------------------------------
  const pb = { data: null, draft: null, over: null, mapping: { stages: {} }, message: null };

  async function playbookView() {
    try { pb.over = await api("playbook"); } catch (e) { return showError(e); }
    pb.draft = pb.over.draft;
    pb.data = JSON.parse(JSON.stringify((pb.draft && pb.draft.data) || pb.over.active));
    pb.message = null;
    drawPlaybook();
  }

  function field(path, value, attrs) {
    const kind = attrs && attrs.type;
    const shown = Object.assign({}, attrs || {});
    if (kind === "list") delete shown.type;
    return el("input", Object.assign({ value: value === undefined || value === null ? "" : value, "data-path": path,
      on: { input: (e) => setPath(path, e.target.value, kind) } }, shown));
  }
  function setPath(path, raw, type) {
    const keys = path.split(".");
    let node = pb.data;
    for (const k of keys.slice(0, -1)) node = node[k];
    const last = keys[keys.length - 1];
    if (type === "number") node[last] = raw === "" ? 0 : Number(raw);
    else if (type === "list") node[last] = raw.split(/[,，\n]/).map((x) => x.trim()).filter(Boolean);
    else node[last] = raw;
  }

  function stageEditor(stage, i) {
    const base = `stages.${i}`;
    const items = (stage.checklist || []).map((item, j) => el("tr", { "data-item": item.id },
      el("td", {}, field(`${base}.checklist.${j}.id`, item.id, { size: 10, "aria-label": T("pb_item_id") })),
      el("td", {}, field(`${base}.checklist.${j}.text`, item.text, { "aria-label": T("pb_item_text") })),
      el("td", {}, field(`${base}.checklist.${j}.points`, item.points || 0, { type: "number", min: 0, style: "width:4em", "aria-label": T("pb_item_points") })),
      el("td", {}, el("button", { class: "link", on: { click: () => { stage.checklist.splice(j, 1); drawPlaybook(); } } }, T("pb_remove")))));
    const newId = el("input", { size: 10, placeholder: T("pb_item_id"), "data-testid": `new-item-id-${stage.id}` });
    const newText = el("input", { placeholder: T("pb_item_text"), "data-testid": `new-item-text-${stage.id}` });
    const add = el("button", { "data-testid": `add-item-${stage.id}`, on: { click: () => {
      if (!newId.value.trim()) return;
      (stage.checklist = stage.checklist || []).push({ id: newId.value.trim(), text: newText.value.trim(), points: 1 });
      drawPlaybook();
    } } }, T("pb_add_item"));
    return el("details", { "data-stage": stage.id, open: state.openStage === stage.id, on: { toggle: (e) => { if (e.target.open) state.openStage = stage.id; } } },
      el("summary", {}, `${stage.name} · ${stage.expected_days}${T("days")} · ${(stage.checklist || []).length}`),
      el("label", {}, T("pb_expected") + " ", field(`${base}.expected_days`, stage.expected_days, { type: "number", min: 1, style: "width:4em" })),
      el("label", { class: "block" }, T("pb_required"), field(`${base}.required_fields`, (stage.required_fields || []).join(", "), { type: "list" })),
      el("h3", {}, T("pb_items")),
      el("div", { class: "scroll" }, el("table", { class: "grid edit" }, el("tbody", {}, items))),
      el("div", { class: "row" }, newId, newText, add),
      el("label", { class: "block" }, T("pb_scripts"), el("textarea", { rows: 2, "data-path": `${base}.scripts`,
        on: { input: (e) => setPath(`${base}.scripts`, e.target.value, "list") } }, (stage.scripts || []).join("\n"))));
  }

  function drawPlaybook() {
    const over = pb.over;
    const draft = pb.draft;
    const running = el("p", { class: "muted", "data-testid": "running" }, T("pb_running") + ": " +
      over.teams.map((t) => `${t.name} v${t.version}${t.pilot ? " (" + T("pb_pilot") + ")" : ""}`).join(" · "));
    const errors = (draft && draft.errors) || [];
    const msg = pb.message ? el("p", { class: pb.message.bad ? "error-inline" : "ok", "data-testid": "pb-message", role: "status" }, pb.message.text) : null;
    const toml = el("textarea", { rows: 8, class: "toml", "data-testid": "toml" }, (draft && draft.toml) || "");
    const scope = el("select", { "data-testid": "scope" },
      over.teams.map((t) => el("option", { value: "team:" + t.id }, `${t.name} (${T("pb_pilot")})`)),
      over.can_publish_all ? el("option", { value: "all" }, T("pb_all")) : null);
    const stranded = pb.stranded ? el("div", { class: "stranded", "data-testid": "stranded" }, el("p", {}, T("pb_stranded")),
      pb.stranded.filter((p) => p.kind === "stage").map((p) => el("label", { class: "block" }, `${p.id} (${p.customers}) → `,
        el("select", { "data-map": p.id, on: { change: (e) => { pb.mapping.stages[p.id] = e.target.value; } } },
          el("option", { value: "" }, "—"), pb.data.stages.map((st) => el("option", { value: st.id }, st.name)))))) : null;
    render(backLink(),
      el("h1", {}, T("pb_title")), running, msg,
      el("section", { "data-testid": "pb-form" }, pb.data.stages.map(stageEditor),
        el("details", {}, el("summary", {}, T("pb_toml")), toml,
          el("button", { on: { click: () => saveDraft({ toml: toml.value }) } }, T("pb_save")))),
      el("div", { class: "row" }, el("button", { class: "primary", "data-testid": "save-draft", on: { click: () => saveDraft({ data: pb.data }) } }, T("pb_save")),
        draft ? el("button", { class: "link", on: { click: discard } }, T("pb_discard")) : null),
      errors.length ? el("section", { class: "errors", "data-testid": "pb-errors" }, el("p", {}, T("pb_errors", { n: errors.length })),
        el("ul", {}, errors.map((e) => el("li", {}, el("code", {}, e.path || "—"), " ", e.message)))) : null,
      draft && draft.diff.length ? el("section", { "data-testid": "pb-diff" }, el("h3", {}, T("pb_diff", { v: draft.against })),
        el("ul", { class: "timeline" }, draft.diff.slice(0, 100).map((d) => el("li", { class: "diff-" + d.kind },
          `${d.kind === "added" ? "+" : d.kind === "removed" ? "−" : "~"} ${d.path}`,
          d.kind !== "removed" && d.new !== "•" ? el("span", { class: "muted" }, " = " + JSON.stringify(d.new)) : null)))) : null,
      draft && draft.valid ? el("section", {}, el("label", {}, T("pb_scope") + " ", scope), stranded,
        el("button", { class: "primary", "data-testid": "publish", on: { click: () => publish(scope.value) } }, T("pb_publish"))) : null,
      el("section", {}, el("h2", {}, T("pb_versions")), el("ul", { class: "timeline", "data-testid": "versions" }, over.versions.map((v) =>
        el("li", { "data-version": v.number }, `v${v.number} · ${v.source} · ${when(v.at)} · ${v.by || "config.toml"} `,
          el("button", { class: "link", "data-testid": `rollback-${v.number}`, on: { click: () => rollback(v.number, scope.value) } }, T("pb_rollback")))))),
      el("section", {}, el("h2", {}, T("pb_log")), el("ul", { class: "timeline", "data-testid": "pb-log" }, over.changes.map((c) =>
        el("li", {}, el("span", { class: "muted" }, when(c.at) + " "), `${c.by || "—"} · ${c.action}${c.number ? " v" + c.number : ""} ${c.scope || ""} `,
          el("span", { class: "muted" }, c.summary || ""))))));
    // Errors next to their field.
    for (const e of errors) {
      const input = root.querySelector(`[data-path="${CSS.escape(e.path)}"]`);
      if (input) { input.classList.add("invalid"); input.insertAdjacentElement("afterend", el("span", { class: "field-error" }, e.message)); }
    }
    document.body.dataset.state = "ready";
  }

  async function saveDraft(body) {
    try { pb.draft = await api("playbook/draft", "PUT", body); }
    catch (e) { pb.message = { bad: true, text: (e.body && e.body.reason) || T("error_other") }; return drawPlaybook(); }
    if (pb.draft.data) pb.data = JSON.parse(JSON.stringify(pb.draft.data));
    pb.stranded = null;
    pb.message = pb.draft.valid ? { text: T("pb_saved", { n: pb.draft.diff.length }) } : { bad: true, text: T("pb_errors", { n: pb.draft.errors.length }) };
    drawPlaybook();
  }
  async function afterPublish(promise) {
    try {
      const done = await promise;
      pb.over = await api("playbook");
      pb.draft = pb.over.draft; pb.stranded = null; pb.mapping = { stages: {} };
      pb.data = JSON.parse(JSON.stringify((pb.draft && pb.draft.data) || pb.over.active));
      pb.message = { text: T("pb_published", { v: done.number }) };
    } catch (e) {
      if (e.status === 409 && e.body && e.body.stranded) { pb.stranded = e.body.stranded; pb.message = { bad: true, text: T("pb_stranded") }; }
      else pb.message = { bad: true, text: (e.body && e.body.reason) || T("error_other") };
    }
    drawPlaybook();
  }
  function publish(scope) { return afterPublish(api("playbook/publish", "POST", { draft_id: pb.draft.id, scope, mapping: pb.mapping })); }
  function rollback(number, scope) { return afterPublish(api("playbook/rollback", "POST", { number, scope })); }
  async function discard() {
    try { await api("playbook/draft/" + pb.draft.id, "DELETE"); } catch (e) { /* already gone */ }
    await playbookView();
  }

  // --- start -----------------------------------------------------------------------------------
  async function start() {
    if (tg) { try { tg.ready(); tg.expand(); tg.BackButton.onClick(back); } catch (e) { /* outside Telegram */ } }
    if (!initData()) return showError(new ApiError(401, null));
    try { state.me = await api("me"); } catch (e) { return showError(e); }
    state.T = state.me.texts;
    document.documentElement.lang = state.me.language === "en" ? "en" : "zh";
    document.title = T("title");
    state.team = state.me.team ? String(state.me.team.id) : null;
    await dashboard();
  }
  window.salesbotConsole = { back, state };
  start();
})();
