# ruff: noqa: E501  (inline CSS/JS)
"""The page shell: inline CSS and JS only (nothing is loaded from anywhere but this server)."""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Deskwatch demo workspace</title>
<style>
*{box-sizing:border-box}body{margin:0;font:14px/1.45 -apple-system,Segoe UI,Helvetica,Arial,sans-serif;
display:grid;grid-template-columns:220px 1fr 380px;height:100vh;color:#1d1c1d}
#side{background:#3f0e40;color:#cfc3cf;overflow:auto;padding:10px 0}#side h1{font-size:16px;color:#fff;
margin:0 14px 10px}.ch{display:flex;justify-content:space-between;padding:3px 14px;cursor:pointer}
.ch:hover{background:#350d36}.ch.sel{background:#1164a3;color:#fff}.ch .n{background:#cd2553;color:#fff;
border-radius:9px;padding:0 7px;font-size:12px;font-weight:bold}.sec{margin:12px 14px 4px;font-size:12px;
text-transform:uppercase;opacity:.7}#center{display:flex;flex-direction:column;overflow:hidden}
#top{padding:8px 14px;border-bottom:1px solid #ddd;display:flex;gap:10px;align-items:center}
#msgs{flex:1;overflow:auto;padding:10px 16px}#composer{border-top:1px solid #ddd;padding:8px 14px;
display:flex;gap:6px}#composer input{flex:1;padding:7px;border:1px solid #aaa;border-radius:4px}
.msg{padding:6px 0 8px;border-bottom:1px solid #f0f0f0}.meta{color:#616061;font-size:12px}
.meta b{color:#1d1c1d}.thread{margin-left:26px;border-left:3px solid #ddd;padding-left:10px}
.ephemeral{background:#f8f8e8;border-left:3px solid #e8c300;padding-left:8px}
.b-header{font-size:17px;font-weight:bold;margin:4px 0}.b-section{display:flex;gap:10px;margin:4px 0}
.b-main{flex:1}.b-fields{display:grid;grid-template-columns:1fr 1fr;gap:4px 16px;margin-top:4px}
.b-context{color:#616061;font-size:12px;margin:3px 0}.b-divider{border:0;border-top:1px solid #ddd}
.b-actions{display:flex;flex-wrap:wrap;gap:6px;margin:6px 0}.btn{border:1px solid #bbb;background:#fff;
border-radius:4px;padding:3px 10px;cursor:pointer;font-size:13px;text-decoration:none;color:#1d1c1d}
.btn.primary{background:#007a5a;color:#fff;border-color:#007a5a}.btn.danger{color:#e01e5a;border-color:#e01e5a}
.mention{background:#e8f5fa;color:#1264a3;border-radius:3px;padding:0 2px}code{background:#f4f4f4;
padding:0 3px;border-radius:3px}.img-placeholder{color:#888}.rich pre{background:#f4f4f4;padding:6px}
#help{border-left:1px solid #ddd;overflow:auto;padding:8px 12px;background:#fafafa}
#help table{width:100%;border-collapse:collapse;font-size:12px}#help td{border-top:1px solid #e4e4e4;
padding:4px 2px;vertical-align:top}.late{color:#e01e5a;font-weight:bold}.soon{color:#b86e00}
#help select,#help button{font-size:11px;margin:1px 0}#help td:last-child{width:128px;white-space:nowrap}
#help td:last-child select{width:84px}#help h3{margin:6px 0;font-size:14px}#modal-wrap{position:fixed;inset:0;background:rgba(0,0,0,.45);
display:none;align-items:center;justify-content:center}#modal{background:#fff;width:560px;max-height:90vh;
overflow:auto;border-radius:8px;padding:16px 20px}#modal h2{margin:0 0 10px;font-size:18px}
.b-input{margin:10px 0}.in-label{display:block;font-weight:bold;margin-bottom:3px}.b-input input[type=text],
.b-input textarea,.b-input select{width:100%;padding:6px;border:1px solid #aaa;border-radius:4px}
.b-input textarea{min-height:60px}.in-hint{color:#616061;font-size:12px}.optional{font-weight:normal;color:#888}
.errors{color:#e01e5a}.m-foot{display:flex;justify-content:flex-end;gap:8px;margin-top:12px}
#status{font-size:12px;color:#616061;padding:0 14px 6px;min-height:1.45em}
</style></head><body>
<nav id="side"><h1>Deskwatch demo</h1><div id="sidebar">Loading…</div></nav>
<main id="center"><div id="top"><b id="title"></b><span style="flex:1"></span>
<label>You are <select id="who"></select></label>
<span id="clock"></span> <select id="rate" title="Demo time speed"><option value="1">×1</option>
<option value="60">×60</option><option value="600">×600</option></select></div>
<div id="msgs"></div>
<form id="composer"><input id="cmd" name="text" autocomplete="off"
placeholder="/escalate zd:103 · /sla · a slash command, sent signed to the bot"><button class="btn primary">Send</button></form>
<div id="status"></div></main>
<aside id="help"><div id="helpdesk"></div></aside>
<div id="modal-wrap"><form id="modal"></form></div>
<script>
let channel = localStorage.getItem("dw-channel") || "C0ALERTS", modalId = null, last = {};
const $ = (id) => document.getElementById(id);
function who() { return $("who").value || "U0MANAGER"; }
async function post(path, data) {
  const body = new URLSearchParams(data);
  body.set("user", who());
  const r = await fetch(path, {method: "POST", body});
  const j = await r.json().catch(() => ({}));
  $("status").textContent = j.status || (r.ok ? "" : "error " + r.status);
  refresh();
  return j;
}
function setHTML(id, html) { if (last[id] !== html) { $(id).innerHTML = html; last[id] = html; } }
async function refresh() {
  const r = await fetch("/state?c=" + encodeURIComponent(channel) + "&user=" + encodeURIComponent(who()));
  if (!r.ok) return;
  const s = await r.json();
  setHTML("sidebar", s.sidebar); setHTML("msgs", s.main); setHTML("helpdesk", s.helpdesk);
  $("title").textContent = s.title; $("clock").textContent = s.clock;
  if (document.activeElement !== $("rate")) $("rate").value = String(s.rate);
  if ($("who").options.length === 0) { $("who").innerHTML = s.users; }
  if (s.modal_key !== last.modalKey) {
    last.modalKey = s.modal_key; modalId = s.modal_id;
    $("modal").innerHTML = s.modal || "";
    $("modal-wrap").style.display = s.modal_id ? "flex" : "none";
  } else if (s.modal_errors !== undefined) {
    const e = $("modal").querySelector(".errors"); if (e && e.innerHTML !== s.modal_errors) e.innerHTML = s.modal_errors;
  }
}
document.addEventListener("click", (ev) => {
  const ch = ev.target.closest(".ch");
  if (ch) { channel = ch.dataset.channel; localStorage.setItem("dw-channel", channel);
    if (channel === "HOME") post("/api/home", {}); refresh(); return; }
  const b = ev.target.closest("button.act");
  if (b) { post("/api/action", {...b.dataset, ...b.closest("[data-ts]").dataset}); return; }
  const h = ev.target.closest("button.hd");
  if (h) { const row = h.closest("tr"); const arg = row.querySelector("select." + h.dataset.op);
    post("/api/helpdesk", {ref: row.dataset.ref, op: h.dataset.op, arg: arg ? arg.value : ""}); return; }
  if (ev.target.id === "m-close") { post("/api/close", {view_id: modalId}); }
});
document.addEventListener("change", (ev) => {
  const s = ev.target.closest(".act-select");
  if (s && s.value) post("/api/action", {...s.dataset, ...s.closest("[data-ts]").dataset, value: s.value});
  if (ev.target.id === "rate") post("/api/clock", {rate: ev.target.value});
  if (ev.target.id === "who") refresh();
});
$("composer").addEventListener("submit", (ev) => {
  ev.preventDefault(); const text = $("cmd").value.trim(); if (!text) return;
  $("cmd").value = ""; post("/api/command", {channel, text});
});
$("modal").addEventListener("submit", async (ev) => {
  ev.preventDefault(); const data = new FormData($("modal")); const body = new URLSearchParams();
  for (const [k, v] of data.entries()) body.append(k, v);
  body.set("view_id", modalId); body.set("user", who());
  const r = await fetch("/api/submit", {method: "POST", body}); const j = await r.json();
  $("status").textContent = j.status || "";
  const e = $("modal").querySelector(".errors"); if (e) e.innerHTML = j.errors || "";
  refresh();
});
refresh(); setInterval(refresh, 1000);
</script></body></html>
"""
