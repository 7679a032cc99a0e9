/* bcm-local console: the bill page. Reads /_bcm_local/api/bill with the page's own query
   (period, tag, metric; account when one was selected), then draws the charts and tables.
   When done, <body data-ready="true"> (or "error"). */
(function () {
  "use strict";
  var root = document.getElementById("bill");
  var query = new URLSearchParams(location.search);
  var FILTERS = ["period", "tag", "metric"];

  var node = BcmPage.node;

  function select(form, name, label, options, current) {
    BcmPage.select(form, name, "filter-" + name, label, options, current);
  }

  function filters(data) {
    var form = document.getElementById("filters");
    form.textContent = "";
    if (query.get("account")) form.appendChild(node("input", null, { type: "hidden", name: "account", value: query.get("account") }));
    select(form, "period", "Billing period", data.periods.slice().reverse().map(function (p) { return [p, p]; }), data.period);
    var tags = [["", "all resources"]];
    Object.keys(data.tags).forEach(function (k) {
      tags.push([k, k + " (any value)"]);
      data.tags[k].forEach(function (v) { tags.push([k + "=" + v, k + " = " + v]); });
    });
    if (data.tag && !tags.some(function (t) { return t[0] === data.tag; })) tags.push([data.tag, data.tag]);
    select(form, "tag", "Tag", tags, data.tag);
    select(form, "metric", "Cost", data.metrics.map(function (m) { return [m, m]; }), data.metric);
  }

  function summary(data) {
    var box = document.getElementById("bill-summary");
    box.textContent = "";
    [[BcmChart.money(data.total, data.currency), data.metric + " total", "bill-total"],
     [data.line_items.toLocaleString("en-US"), "line items", "bill-lines"],
     [data.period, "billing period", "bill-period"],
     [data.tag || "all resources", "tag filter", "bill-tag"],
     [data.built_at.slice(11, 19) + "Z", "computed at (UTC)", "bill-built"]].forEach(function (f) {
      var d = node("div", null, { id: f[2] });
      d.append(node("strong", f[0]), node("span", f[1]));
      box.appendChild(d);
    });
    document.getElementById("bill-total").dataset.value = String(data.total);
  }

  function table(target, headers, rows) {
    var t = node("table"), head = node("tr");
    headers.forEach(function (h, i) { head.appendChild(node("th", h, i ? { class: "num" } : {})); });
    t.appendChild(node("thead")).appendChild(head);
    var body = t.appendChild(node("tbody"));
    rows.forEach(function (r) {
      var tr = body.appendChild(node("tr", null, { "data-key": r.key }));
      r.cells.forEach(function (c, i) {
        tr.appendChild(node("td", c, i ? { class: "num" } : {}));
      });
      tr.dataset.value = String(r.value);
    });
    var el = document.getElementById(target);
    el.textContent = "";
    el.appendChild(t);
  }

  function share(value, total) {
    return total ? (100 * value / total).toFixed(1) + " %" : "—";
  }

  function draw(data) {
    filters(data);
    summary(data);
    var money = function (v) { return BcmChart.money(v, data.currency); };
    var accounts = data.accounts.map(function (a) {
      return { id: a.id, name: a.id + " " + (a.name || ""), total: a.total, daily: a.daily };
    });
    BcmChart.stacked(document.getElementById("chart-service"), { days: data.days, series: data.services, currency: data.currency, title: "daily cost by service" });
    BcmChart.stacked(document.getElementById("chart-account"), { days: data.days, series: accounts, currency: data.currency, title: "daily cost by account" });
    table("table-service", ["Service", data.metric, "Share"], data.services.map(function (s) {
      return { key: s.id, value: s.total, cells: [s.name, money(s.total), share(s.total, data.total)] };
    }));
    table("table-account", ["Account", data.metric, "Share"], accounts.map(function (a) {
      return { key: a.id, value: a.total, cells: [a.name, money(a.total), share(a.total, data.total)] };
    }));
    table("table-day", ["Day", data.metric], data.days.map(function (d, i) {
      return { key: d, value: data.daily[i], cells: [d, money(data.daily[i])] };
    }));
  }

  BcmPage.load(BcmPage.url(root, FILTERS, query), document.getElementById("bill-status"), draw,
    "the bill could not be loaded");
})();
