// fwload: the Resources tab's history, one small chart per component (CPU and memory over the
// test's last minutes, the limit dashed), drawn under Locust's table as plain SVG. Served by the
// plugin (no CDN); the page is Locust's React bundle, so this keeps its own element and puts it
// back after the table whenever React re-renders the tab.
(function () {
  "use strict";
  var TAB = "fwload-resources";
  var PANEL = "fwload-resource-history";
  var SVG = "http://www.w3.org/2000/svg";
  var WIDTH = 300, HEIGHT = 80, PAD = 4;
  var MIB = 1024 * 1024;

  function onTab() {
    return new URLSearchParams(window.location.search).get("tab") === TAB;
  }

  function el(name, attrs, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function chart(title, unit, scale, points, index, limit) {
    var values = points.map(function (p) { return p[index] === null ? null : p[index] / scale; });
    var known = values.filter(function (v) { return v !== null; });
    var top = Math.max.apply(null, known.concat(limit ? [limit / scale] : []).concat([1e-9]));
    var t0 = points[0][0], t1 = points[points.length - 1][0];
    var span = Math.max(t1 - t0, 1);
    var x = function (ts) { return PAD + (WIDTH - 2 * PAD) * (ts - t0) / span; };
    var y = function (v) { return HEIGHT - PAD - (HEIGHT - 2 * PAD) * v / (top * 1.1); };
    var svg = el("svg", {width: WIDTH, height: HEIGHT + 18, viewBox: "0 0 " + WIDTH + " " + (HEIGHT + 18),
                         role: "img", "data-series": title});
    var last = known.length ? known[known.length - 1] : null;
    var label = title + ": " + (last === null ? "–" : last.toFixed(unit === "m" ? 0 : 1) + " " + unit)
      + (limit ? " (limit " + (limit / scale).toFixed(0) + " " + unit + ")" : "");
    svg.appendChild(el("text", {x: PAD, y: 12, "font-size": 11, fill: "currentColor"}, label));
    var plot = el("g", {transform: "translate(0,16)"});
    plot.appendChild(el("rect", {x: 0, y: 0, width: WIDTH, height: HEIGHT, fill: "none",
                                 stroke: "currentColor", "stroke-opacity": 0.2}));
    if (limit) {
      plot.appendChild(el("line", {x1: PAD, x2: WIDTH - PAD, y1: y(limit / scale), y2: y(limit / scale),
                                   stroke: "#e53935", "stroke-dasharray": "4 3", "class": "limit"}));
    }
    var line = points.map(function (p, i) { return values[i] === null ? null : x(p[0]).toFixed(1) + "," + y(values[i]).toFixed(1); })
      .filter(function (xy) { return xy !== null; }).join(" ");
    plot.appendChild(el("polyline", {points: line, fill: "none", stroke: "#1e88e5", "stroke-width": 1.5}));
    svg.appendChild(plot);
    return svg;
  }

  function card(component) {
    var box = document.createElement("div");
    box.className = "fwload-component";
    box.dataset.component = component.component;
    box.style.cssText = "display:inline-block;margin:8px 16px 8px 0;vertical-align:top";
    var name = document.createElement("div");
    name.style.cssText = "font-weight:600;font-size:13px";
    name.textContent = component.component + (component.limits === "documented" ? " (documented limits)" : "");
    box.appendChild(name);
    box.appendChild(chart("CPU", "m", 1, component.points, 1, component.cpu_limit_m));
    box.appendChild(chart("memory", "MiB", MIB, component.points, 2, component.memory_limit_bytes));
    return box;
  }

  function place(panel) {
    var table = document.querySelector("table");
    if (!table) return false;
    var holder = table.closest(".MuiTableContainer-root") || table.parentElement;
    if (holder.nextElementSibling !== panel) holder.insertAdjacentElement("afterend", panel);
    return true;
  }

  function refresh() {
    var panel = document.getElementById(PANEL);
    if (!onTab()) {
      if (panel) panel.remove();
      return;
    }
    if (!panel) {
      panel = document.createElement("div");
      panel.id = PANEL;
      panel.style.cssText = "padding:8px 0";
    }
    if (!place(panel)) return;
    fetch("./fwload/resources/history.json", {credentials: "same-origin"})
      .then(function (answer) { return answer.ok ? answer.json() : {components: []}; })
      .then(function (data) {
        var drawable = data.components.filter(function (c) { return c.points.length >= 2; });
        if (!drawable.length) {
          panel.textContent = "History charts appear after two resource samples.";
          return;
        }
        panel.replaceChildren.apply(panel, drawable.map(card));
      })
      .catch(function () { /* the next refresh tries again */ });
  }

  window.setInterval(refresh, 2000);
  refresh();
})();
