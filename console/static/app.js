/* salesbot console: a Telegram Mini App. Plain JS, no build step.
 * Every API call carries "Authorization: tma <initData>"; every string from the server goes into the
 * page with textContent (never innerHTML). Words come from GET /api/app/me (core/texts_console.py). */
"use strict";
(function () {
  const tg = window.Telegram && window.Telegram.WebApp;
  const root = document.getElementById("app");
  const state = { me: null, T: {}, team: null, period: "all", stack: [], charts: [] };
  const started = performance.now();

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
  async function api(path) {
    const resp = await fetch("/api/app/" + path, { headers: { Authorization: "tma " + initData() } });
    let body = null;
    try { body = await resp.json(); } catch (e) { body = null; }
    if (!resp.ok) throw new ApiError(resp.status, body);
    return body;
  }
  function initData() { return (tg && tg.initData) || ""; }

  // --- screens -------------------------------------------------------------------------------
  function clearCharts() { state.charts.forEach((c) => c.destroy()); state.charts = []; }
  function render(...nodes) {
    clearCharts();
    root.replaceChildren(...nodes);
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
  function markFirstChart() {
    if (window.__firstChartMs === undefined) window.__firstChartMs = performance.now() - started;
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
    const rank = r.rank ? T("rank_of", r.rank) : "";
    render(backLink(),
      el("h1", { "data-testid": "rep-name" }, r.name),
      el("section", { class: "stats" },
        el("div", {}, el("span", { class: "muted" }, T("kpi")), el("b", {}, String(r.kpi))),
        el("div", {}, el("span", { class: "muted" }, T("balance")), el("b", {}, String(r.balance))),
        el("div", {}, el("span", { class: "muted" }, T("compliance")), el("b", {}, pct(r.compliance))),
        el("div", {}, el("span", { class: "muted" }, T("quality")), el("b", {}, pct(r.quality)))),
      rank ? el("p", { class: "muted" }, rank) : null,
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
