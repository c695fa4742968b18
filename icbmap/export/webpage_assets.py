"""The style sheet and the script of the web page (:mod:`icbmap.export.webpage`).

Hand-written, no library: the script shows a board's name and population on hover and
focus, its figures on click, Enter or Space (from the JSON data blocks, as text nodes,
never as HTML), sorts the tables, zooms and pans the map, and switches the outline layers.
The page's Content-Security-Policy allows exactly these two texts, by their SHA-256.
"""

CSS = """
:root{--ink:#1f1f1f;--faint:#555;--line:#c8c8c8;--accent:#0b57d0;--warn:#8a5a00;
font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink)}
*{box-sizing:border-box}
body{margin:0;line-height:1.45;background:#fff;font-size:15px}
header,main,footer{max-width:1400px;margin:0 auto;padding:0 16px}
h1{font-size:1.5rem;margin:.4em 0 .2em}h2{font-size:1.2rem;margin:1.2em 0 .4em}h3{font-size:1.05rem}
bdi,li,.panel,.tip,h1,h2{overflow-wrap:anywhere}td,th{overflow-wrap:break-word}
.skip{position:absolute;left:-9999px}.skip:focus{left:8px;top:8px;background:#fff;padding:4px;z-index:9}
.small{font-size:.85rem;color:var(--faint)}
.banner{margin:10px 0 0;padding:8px 12px;border-left:6px solid var(--warn);background:#fff4d6}
.banner-official{border-color:#2e7d32;background:#e8f5e9}
.status-tag{display:inline-block;font-size:.8rem;font-weight:600;padding:1px 8px;border-radius:10px;
background:#fff4d6;color:#5a3b00;border:1px solid #e0c27a;margin-left:6px;vertical-align:middle}
.status-official{background:#e8f5e9;color:#1b5e20;border-color:#8bc38e}
.status-line{font-weight:600;color:#5a3b00;margin:.2em 0}
.summary{font-weight:500}
.map-block{display:grid;grid-template-columns:minmax(0,3fr) minmax(260px,2fr);gap:16px;align-items:start;margin:8px 0}
@media (max-width:800px){.map-block{grid-template-columns:minmax(0,1fr)}}
.map-tools{display:flex;flex-wrap:wrap;gap:6px;align-items:center;margin-bottom:6px}
.map-tools button,.pick,th button{font:inherit}
.map-tools button{min-width:2.4em;min-height:2.2em;border:1px solid var(--line);background:#fff;border-radius:4px;cursor:pointer}
.map-wrap{position:relative;border:1px solid var(--line);background:#eef3f7;overflow:hidden}
svg.map{display:block;width:100%;height:min(76vh,118vw);cursor:grab}
svg.map path{vector-effect:non-scaling-stroke;stroke-linejoin:round}
svg.map .board path,svg.map .unassigned path,svg.map .other path{stroke-width:.6}
svg.map .board:hover,svg.map .board.sel{filter:brightness(1.08)}
svg.map .board:focus{outline:none}
svg.map .moved{stroke:#000;stroke-width:.8;stroke-opacity:.6;pointer-events:none}
svg.map .councils path{fill:none;stroke:#4a4a4a;stroke-width:.5;stroke-opacity:.75;pointer-events:none}
svg.map .sas path{fill:none;stroke:#111;stroke-width:1.6;stroke-dasharray:5 3;pointer-events:none}
svg.map .baseline path{fill:none;stroke:#b00020;stroke-width:1.4;stroke-dasharray:2 2;pointer-events:none}
svg.map .outlines{fill:none;stroke:#fff;stroke-width:1.6;pointer-events:none}
svg.map .hl-under{fill:none;stroke:#fff;stroke-width:6;pointer-events:none}
svg.map .hl{fill:none;stroke:#000;stroke-width:3;pointer-events:none}
.hide-councils .councils,.hide-sas .sas,.hide-moved .moved,.hide-baseline .baseline{display:none}
.tip{position:absolute;z-index:5;max-width:min(320px,80%);background:rgba(255,255,255,.97);border:1px solid #888;
border-radius:4px;padding:6px 8px;font-size:.85rem;box-shadow:0 2px 6px rgba(0,0,0,.2);pointer-events:none}
.tip .t1{font-weight:700}
.legend{list-style:none;padding:0;margin:8px 0;display:flex;flex-wrap:wrap;gap:4px 16px;font-size:.9rem}
.key{display:inline-block;width:22px;height:12px;margin-right:5px;vertical-align:middle;border:1px solid #777}
.key-board{background:#9fc5e8}.key-council{border:0;border-top:1px solid #4a4a4a;height:1px}
.key-sa{border:0;border-top:2px dashed #111;height:2px}.key-baseline{border:0;border-top:2px dotted #b00020;height:2px}
.key-moved{background:repeating-linear-gradient(45deg,#555 0 2px,#fff 2px 6px)}
.panel{border:1px solid var(--line);border-radius:6px;padding:10px 14px;background:#fafafa;max-height:84vh;overflow:auto}
.panel h2{margin-top:0}.panel:focus{outline:3px solid var(--accent)}
.panel dl{display:grid;grid-template-columns:minmax(8em,40%) 1fr;gap:3px 10px;margin:8px 0}
.panel dt{color:var(--faint)}.panel dd{margin:0}
.panel .rules li{margin:2px 0}
.v-pass{color:#1b5e20}.v-fail{color:#b71c1c}.v-na{color:var(--faint)}
.table-wrap{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%;font-size:.9rem}
caption{text-align:left;font-weight:600;padding:4px 0}
th,td{border-bottom:1px solid #e2e2e2;padding:4px 6px;text-align:left;vertical-align:top}
table.boards td{white-space:nowrap}table.boards td:nth-child(9),table.boards td:nth-child(11){white-space:normal;min-width:8em}
table.boards td[data-v]{text-align:right}table.boards td:nth-child(3),table.boards td:nth-child(9),table.boards td:nth-child(11){text-align:left}
thead th{background:#f1f3f4;position:sticky;top:0}
th button{border:0;background:none;font-weight:700;cursor:pointer;padding:0;text-align:left;color:inherit}
th[aria-sort=ascending] button::after{content:" \\25B2"}th[aria-sort=descending] button::after{content:" \\25BC"}
.pick{display:inline;border:0;background:none;color:var(--accent);text-decoration:underline;cursor:pointer;padding:0;text-align:left}
.sw{margin-right:6px;vertical-align:-1px;border:1px solid #777}
tr.sel{background:#fff8c5}
td.best{font-weight:700;background:#eef7ee}
.nav{display:flex;flex-wrap:wrap;gap:6px 18px;padding:0;list-style:none}
details{margin:4px 0}summary{cursor:pointer}
footer{margin:24px auto 16px;border-top:1px solid var(--line);padding-top:8px}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
@media print{.map-tools button,.legend input,.hint,.skip{display:none}.panel{max-height:none;overflow:visible}
.map-block{grid-template-columns:minmax(0,3fr) minmax(0,2fr)}thead th{position:static}}
"""

JS = r"""
(function () {
"use strict";
function q(s, r) { return (r || document).querySelector(s); }
function qa(s, r) { return Array.prototype.slice.call((r || document).querySelectorAll(s)); }
function el(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}
function named(tag, cls, name, rest) {
  var e = el(tag, cls); var b = el("bdi", null, name); e.appendChild(b);
  if (rest) e.appendChild(document.createTextNode(rest));
  return e;
}
var maps = {};

function setupMap(block) {
  var key = block.id.slice(4);
  var data = JSON.parse(document.getElementById(block.getAttribute("data-json")).textContent);
  var svg = q("svg.map", block), wrap = q(".map-wrap", block), tip = q(".tip", block), panel = q(".panel", block);
  var hls = qa("path.hl-under, path.hl", svg), hatch = q("pattern", svg);
  var full = svg.getAttribute("viewBox").split(" ").map(Number);
  var start = (block.getAttribute("data-view") || "").split(" ").map(Number);
  if (start.length !== 4 || start.some(isNaN)) start = full.slice();
  var vb = start.slice(), dragged = false, selected = null;

  function apply() {
    svg.setAttribute("viewBox", vb.join(" "));
    var w = svg.clientWidth || 600;
    var unitsPerPx = Math.max(vb[2] / w, vb[3] / (svg.clientHeight || 600));
    var s = Math.max(unitsPerPx * 7, 1);
    hatch.setAttribute("width", s); hatch.setAttribute("height", s);
    hatch.firstChild.setAttribute("height", s); hatch.firstChild.setAttribute("width", s * 0.3);
  }
  function zoom(f, cx, cy) {
    var w = vb[2] * f, h = vb[3] * f;
    if (w > full[2] * 1.6 || w < full[2] / 400) return;
    if (cx === undefined) { cx = vb[0] + vb[2] / 2; cy = vb[1] + vb[3] / 2; }
    vb = [cx - (cx - vb[0]) * f, cy - (cy - vb[1]) * f, w, h]; apply();
  }
  function toSvg(x, y) {
    var r = svg.getBoundingClientRect();
    var s = Math.max(vb[2] / r.width, vb[3] / r.height);
    return [vb[0] + (x - r.left) * s - (r.width * s - vb[2]) / 2, vb[1] + (y - r.top) * s - (r.height * s - vb[3]) / 2];
  }
  function toScreen(px, py) {
    var m = svg.getScreenCTM(), p = svg.createSVGPoint(); p.x = px; p.y = py; p = p.matrixTransform(m);
    return [p.x, p.y];
  }
  apply();
  window.addEventListener("resize", apply);
  qa("[data-zoom]", block).forEach(function (b) {
    b.addEventListener("click", function () {
      var z = b.getAttribute("data-zoom");
      if (z === "in") zoom(0.6); else if (z === "out") zoom(1 / 0.6); else { vb = start.slice(); apply(); }
    });
  });
  svg.addEventListener("wheel", function (e) {
    e.preventDefault(); var p = toSvg(e.clientX, e.clientY); zoom(e.deltaY < 0 ? 0.8 : 1.25, p[0], p[1]);
  }, { passive: false });
  var down = null;
  svg.addEventListener("pointerdown", function (e) {
    if (e.pointerType !== "mouse" || e.button !== 0) return;
    down = [e.clientX, e.clientY, vb[0], vb[1]]; dragged = false;
  });
  window.addEventListener("pointermove", function (e) {
    if (!down) return;
    var dx = e.clientX - down[0], dy = e.clientY - down[1];
    if (!dragged && Math.abs(dx) + Math.abs(dy) < 4) return;
    dragged = true; hideTip();
    var r = svg.getBoundingClientRect(), s = Math.max(vb[2] / r.width, vb[3] / r.height);
    vb[0] = down[2] - dx * s; vb[1] = down[3] - dy * s; apply();
  });
  window.addEventListener("pointerup", function () { down = null; });
  block.addEventListener("keydown", function (e) {
    if (e.target.tagName === "INPUT") return;
    var k = e.key, step = vb[2] * 0.15;
    if (k === "+" || k === "=") zoom(0.6);
    else if (k === "-" || k === "_") zoom(1 / 0.6);
    else if (k === "0") { vb = start.slice(); apply(); }
    else if (e.shiftKey && k === "ArrowLeft") { vb[0] -= step; apply(); }
    else if (e.shiftKey && k === "ArrowRight") { vb[0] += step; apply(); }
    else if (e.shiftKey && k === "ArrowUp") { vb[1] -= step; apply(); }
    else if (e.shiftKey && k === "ArrowDown") { vb[1] += step; apply(); }
    else return;
    e.preventDefault();
  });
  qa("input[data-layer]", block).forEach(function (c) {
    c.addEventListener("change", function () { svg.classList.toggle("hide-" + c.getAttribute("data-layer"), !c.checked); });
    svg.classList.toggle("hide-" + c.getAttribute("data-layer"), !c.checked);
  });

  function boardOf(node) {
    while (node && node !== svg) { if (node.classList && node.classList.contains("board")) return node; node = node.parentNode; }
    return null;
  }
  function tipLines(b, path) {
    var d = data.boards[b], lines = [];
    if (d) lines.push([d.name, ": population " + d.pop]);
    else lines.push([b === "-2" ? "Outside the focus" : "Not in any board", ""]);
    if (path) {
      var c = +path.getAttribute("data-c"), s = +path.getAttribute("data-s"), o = path.getAttribute("data-o");
      if (data.councils[c]) lines.push(["Council: ", data.councils[c][0], ", population " + data.councils[c][1]]);
      if (s >= 0 && data.sas[s]) lines.push([data.saLabel + ": ", data.sas[s][0], ", population " + data.sas[s][1]]);
      if (o !== String(b) && data.baseBoards[o] !== undefined) lines.push(["Moved from ", data.baseBoards[o], " (baseline)"]);
    }
    if (d) lines.push(["", data.status, ""]);
    return lines;
  }
  function showTip(lines, x, y) {
    tip.textContent = "";
    lines.forEach(function (l, i) {
      var row = el("div", i === 0 ? "t1" : "");
      if (l.length === 2) { row.appendChild(el("bdi", null, l[0])); row.appendChild(document.createTextNode(l[1])); }
      else { row.appendChild(document.createTextNode(l[0])); row.appendChild(el("bdi", null, l[1])); row.appendChild(document.createTextNode(l[2])); }
      tip.appendChild(row);
    });
    tip.hidden = false;
    var r = wrap.getBoundingClientRect(), tw = tip.offsetWidth, th = tip.offsetHeight;
    var left = x - r.left + 14, top = y - r.top + 14;
    if (left + tw > r.width) left = Math.max(0, x - r.left - tw - 14);
    if (top + th > r.height) top = Math.max(0, y - r.top - th - 14);
    tip.style.left = left + "px"; tip.style.top = top + "px";
  }
  function hideTip() { tip.hidden = true; }
  function highlight(b) {
    var o = b === null ? null : document.getElementById("o-" + key + "-" + b);
    hls.forEach(function (h) { h.setAttribute("d", o ? o.getAttribute("d") : ""); });
  }
  svg.addEventListener("mousemove", function (e) {
    if (down && dragged) return;
    var g = boardOf(e.target);
    var pg = e.target.parentNode, other = pg && pg.getAttribute && (pg.getAttribute("data-b") === "-1" || pg.getAttribute("data-b") === "-2");
    if (!g && !other) { hideTip(); return; }
    var b = g ? g.getAttribute("data-b") : pg.getAttribute("data-b");
    showTip(tipLines(b, e.target.tagName === "path" ? e.target : null), e.clientX, e.clientY);
  });
  svg.addEventListener("mouseleave", hideTip);
  svg.addEventListener("click", function (e) {
    if (dragged) { dragged = false; return; }
    var g = boardOf(e.target); if (g) select(g.getAttribute("data-b"), false);
  });
  qa("g.board", svg).forEach(function (g) {
    var b = g.getAttribute("data-b");
    g.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); select(b, true); }
    });
    g.addEventListener("focus", function () {
      highlight(b);
      var pt = data.boards[b] && data.boards[b].point, s = toScreen(pt[0], pt[1]);
      showTip(tipLines(b, null), s[0], s[1]);
    });
    g.addEventListener("blur", function () { hideTip(); highlight(selected); });
  });

  function select(b, focusPanel) {
    var d = data.boards[b]; if (!d) return;
    selected = b; highlight(b);
    qa("g.board.sel", svg).forEach(function (g) { g.classList.remove("sel"); });
    var g = q('g.board[data-b="' + b + '"]', svg); if (g) g.classList.add("sel");
    qa('table[id="boards-' + key + '"] tr').forEach(function (tr) { tr.classList.toggle("sel", tr.getAttribute("data-b") === b); });
    panel.textContent = "";
    panel.appendChild(named("h2", null, d.name));
    panel.appendChild(el("p", "status-line", data.status));
    panel.appendChild(el("p", "small", "Code " + d.code));
    var dl = el("dl");
    d.figures.forEach(function (f) {
      var dt = el("dt", null, f[0]); dt.title = f[2]; dl.appendChild(dt); dl.appendChild(el("dd", null, f[1]));
    });
    panel.appendChild(dl);
    if (d.principles.length) {
      panel.appendChild(el("h3", null, "Design principles"));
      var ul = el("ul", "rules");
      d.principles.forEach(function (p) {
        var li = el("li", "v-" + p[1], (p[1] === "pass" ? "\u2713 " : p[1] === "fail" ? "\u2717 " : "\u2013 ") + p[0]);
        if (p[2].length) { var sub = el("ul"); p[2].forEach(function (r) { sub.appendChild(el("li", null, r)); }); li.appendChild(sub); }
        ul.appendChild(li);
      });
      panel.appendChild(ul);
    }
    if (focusPanel) panel.focus();
    else if (panel.getBoundingClientRect().top > window.innerHeight - 40) panel.scrollIntoView({ block: "start" });
  }
  maps[key] = { select: select };
}

function setupTable(t) {
  var heads = qa("thead th", t);
  heads.forEach(function (th, col) {
    var btn = q("button", th); if (!btn) return;
    btn.addEventListener("click", function () {
      var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
      heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", dir);
      var num = th.getAttribute("data-type") === "num", body = t.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute("data-v"), y = b.cells[col].getAttribute("data-v"), c;
        if (num) c = parseFloat(x) - parseFloat(y); else c = x.localeCompare(y, "en-GB", { sensitivity: "base" });
        return dir === "ascending" ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
}

qa(".map-block").forEach(setupMap);
qa("table.sortable").forEach(setupTable);
qa("button.pick").forEach(function (b) {
  b.addEventListener("click", function () {
    var m = maps[b.getAttribute("data-map")]; if (m) m.select(b.getAttribute("data-b"), true);
  });
});
document.documentElement.setAttribute("data-ready", "1");
})();
"""
