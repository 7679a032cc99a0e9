/* bcm-local console: stacked daily bar charts drawn as SVG. Hand-written, no dependencies.
   BcmChart.stacked(container, {days, series: [{id, name, total, daily}], currency})
   Positive values stack up from zero, negative ones (credits, refunds) down from it.
   Every segment carries data-series / data-day / data-value; the svg carries data-total. */
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
    "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#ad494a", "#637939", "#843c39"];

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(node);
    return node;
  }

  function money(value, currency, compact) {
    return new Intl.NumberFormat("en-US", {
      style: "currency", currency: currency || "USD",
      notation: compact ? "compact" : "standard", maximumFractionDigits: 2,
    }).format(value);
  }

  function niceStep(range) {
    if (range <= 0) return 1;
    var raw = range / 5, power = Math.pow(10, Math.floor(Math.log10(raw))), unit = raw / power;
    return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
  }

  /* At most PALETTE.length series; the smallest are summed into "Other". */
  function fold(series, days) {
    if (series.length <= PALETTE.length) return series;
    var keep = series.slice(0, PALETTE.length - 1), rest = series.slice(PALETTE.length - 1);
    var other = { id: "other", name: "Other (" + rest.length + ")", total: 0, daily: days.map(function () { return 0; }) };
    rest.forEach(function (s) {
      other.total += s.total;
      s.daily.forEach(function (v, i) { other.daily[i] += v; });
    });
    return keep.concat([other]);
  }

  function stacked(container, opts) {
    var days = opts.days, series = fold(opts.series, days), currency = opts.currency;
    var W = 960, H = 300, L = 70, R = 12, T = 12, B = 34;
    var up = days.map(function () { return 0; }), down = days.map(function () { return 0; });
    series.forEach(function (s) {
      s.daily.forEach(function (v, i) { if (v > 0) up[i] += v; else down[i] += v; });
    });
    var top = Math.max.apply(null, up.concat([0])), bottom = Math.min.apply(null, down.concat([0]));
    var step = niceStep(top - bottom);
    top = Math.ceil(top / step) * step || step;
    bottom = Math.floor(bottom / step) * step;
    var y = function (v) { return T + (top - v) / (top - bottom) * (H - T - B); };
    var band = (W - L - R) / Math.max(days.length, 1), bar = Math.max(band * 0.72, 1);
    var total = 0;
    series.forEach(function (s) { total += s.total; });

    container.textContent = "";
    var svg = el("svg", {
      viewBox: "0 0 " + W + " " + H, role: "img", "data-total": String(total),
      "data-series-count": String(series.length), "aria-label": opts.title || "stacked bar chart",
    }, container);
    var grid = el("g", { class: "grid" }, svg);
    for (var v = bottom; v <= top + step / 2; v += step) {
      el("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: v === 0 ? "#8a96a3" : "#e3e8ee" }, grid);
      el("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end" }, grid).textContent = money(v, currency, true);
    }
    var every = Math.ceil(days.length / 16);
    days.forEach(function (day, i) {
      if (i % every) return;
      el("text", { x: L + band * i + band / 2, y: H - B + 16, "text-anchor": "middle" }, grid)
        .textContent = day.slice(5);
    });
    var pos = days.map(function () { return 0; }), neg = days.map(function () { return 0; });
    var bars = el("g", { class: "bars" }, svg);
    series.forEach(function (s, n) {
      var color = PALETTE[n % PALETTE.length];
      var group = el("g", { "data-series": s.name, "data-total": String(s.total), fill: color }, bars);
      s.daily.forEach(function (value, i) {
        if (Math.abs(value) < 1e-9) return;
        var base = value > 0 ? pos[i] : neg[i], end = base + value;
        if (value > 0) pos[i] = end; else neg[i] = end;
        var rect = el("rect", {
          class: "segment", x: L + band * i + (band - bar) / 2, width: bar,
          y: Math.min(y(base), y(end)), height: Math.max(Math.abs(y(base) - y(end)), 0.5),
          "data-series": s.name, "data-day": days[i], "data-value": String(value),
        }, group);
        el("title", {}, rect).textContent = s.name + " · " + days[i] + " · " + money(value, currency);
      });
    });

    var legend = document.createElement("ul");
    legend.className = "legend";
    series.forEach(function (s, n) {
      var item = document.createElement("li");
      item.dataset.series = s.name;
      item.dataset.total = String(s.total);
      var swatch = document.createElement("i");
      swatch.style.backgroundColor = PALETTE[n % PALETTE.length];
      var amount = document.createElement("b");
      amount.textContent = money(s.total, currency);
      item.append(swatch, s.name, amount);
      legend.appendChild(item);
    });
    container.appendChild(legend);
    return svg;
  }

  window.BcmChart = { stacked: stacked, money: money };
})();
