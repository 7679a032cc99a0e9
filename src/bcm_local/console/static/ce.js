/* bcm-local console: the Cost Explorer page. Reads /_bcm_local/api/ce with the page's own
   query (start, end, granularity, metric, group, filter, view; account when one was
   selected): the figures are the ce service's GetCostAndUsage answer, whose request the
   page shows. Groups and filters take dimensions, tags (TAG:) and cost categories (CC:).
   When done, <body data-ready="true"> (or "error"). */
(function () {
  "use strict";
  var root = document.getElementById("ce");
  var query = new URLSearchParams(location.search);
  var PARAMS = ["start", "end", "granularity", "metric", "group", "filter", "view"];
  var LABELS = { SERVICE: "Service", LINKED_ACCOUNT: "Account", REGION: "Region" };

  var node = BcmPage.node;

  function select(form, name, label, options, current) {
    BcmPage.select(form, name, "ce-" + name, label, options, current);
  }

  function current(request) {
    var g = request.GroupBy[0], f = request.Filter, filter = "";
    if (f && f.Dimensions) filter = f.Dimensions.Key + "=" + f.Dimensions.Values[0];
    if (f && f.Tags) filter = "TAG:" + f.Tags.Key + "=" + f.Tags.Values[0];
    if (f && f.CostCategories) filter = "CC:" + f.CostCategories.Key + "=" + f.CostCategories.Values[0];
    var prefix = { TAG: "TAG:", COST_CATEGORY: "CC:" }[g.Type] || "";
    return {
      granularity: request.Granularity, metric: request.Metrics[0], filter: filter,
      group: prefix + g.Key, view: request.BillingViewArn || "",
    };
  }

  function form(data) {
    var f = document.getElementById("ce-filters"), now = current(data.request), o = data.options;
    f.textContent = "";
    if (query.get("account")) f.appendChild(node("input", null, { type: "hidden", name: "account", value: query.get("account") }));
    f.appendChild(node("input", null, { type: "hidden", name: "start", value: data.request.TimePeriod.Start }));
    f.appendChild(node("input", null, { type: "hidden", name: "end", value: data.request.TimePeriod.End }));
    var groups = Object.keys(o.groups).map(function (k) { return [k, o.groups[k]]; });
    o.tags.forEach(function (t) { groups.push(["TAG:" + t, "Tag: " + t]); });
    var names = Object.keys(o.categories);
    names.forEach(function (c) { groups.push(["CC:" + c, "Cost category: " + c]); });
    select(f, "group", "Group by", groups, now.group);
    var views = o.views.map(function (v, i) { return [i ? v.arn : "", "View: " + v.name]; });
    select(f, "view", "Billing view", views, now.view);
    select(f, "granularity", "Granularity", o.granularities.map(function (g) { return [g, g]; }), now.granularity);
    select(f, "metric", "Metric", o.metrics.map(function (m) { return [m, m]; }), now.metric);
    var filters = [["", "everything"]];
    Object.keys(o.values).forEach(function (d) {
      o.values[d].forEach(function (v) { filters.push([d + "=" + v, (LABELS[d] || d) + " = " + v]); });
    });
    names.forEach(function (c) {
      o.categories[c].forEach(function (v) { filters.push(["CC:" + c + "=" + v, c + " = " + v]); });
    });
    if (now.filter && !filters.some(function (x) { return x[0] === now.filter; })) filters.push([now.filter, now.filter]);
    select(f, "filter", "Filter", filters, now.filter);
  }

  function viewName(data) {
    var arn = data.request.BillingViewArn, views = data.options.views;
    var found = views.filter(function (v) { return v.arn === arn; })[0];
    return (found || views[0]).name;
  }

  function summary(data) {
    var box = document.getElementById("ce-summary"), span = data.request.TimePeriod;
    box.textContent = "";
    [[BcmChart.money(data.total, "USD"), data.request.Metrics[0] + " total", "ce-total"],
     [span.Start + " – " + span.End, "time period (end exclusive)", "ce-span"],
     [String(data.series.length), "groups", "ce-groups"],
     [viewName(data), "billing view", "ce-view"],
     [Object.keys(data.options.categories).join(", ") || "none", "cost categories", "ce-categories"]].forEach(function (f) {
      var d = node("div", null, { id: f[2] });
      d.append(node("strong", f[0]), node("span", f[1]));
      box.appendChild(d);
    });
    document.getElementById("ce-total").dataset.value = String(data.total);
  }

  function table(data) {
    var t = node("table"), head = node("tr");
    head.appendChild(node("th", "Group"));
    data.periods.forEach(function (p, i) { head.appendChild(node("th", p + (data.estimated[i] ? " *" : ""), { class: "num" })); });
    head.appendChild(node("th", "Total", { class: "num" }));
    t.appendChild(node("thead")).appendChild(head);
    var body = t.appendChild(node("tbody"));
    data.series.forEach(function (s) {
      var tr = body.appendChild(node("tr", null, { "data-key": s.id }));
      tr.dataset.value = String(s.total);
      tr.appendChild(node("td", s.name));
      s.daily.forEach(function (v) { tr.appendChild(node("td", BcmChart.money(v, "USD"), { class: "num" })); });
      tr.appendChild(node("td", BcmChart.money(s.total, "USD"), { class: "num" }));
    });
    var el = document.getElementById("ce-table");
    el.textContent = "";
    el.appendChild(t);
    if (data.estimated.some(Boolean)) el.appendChild(node("p", "* estimated: the open month", { class: "empty" }));
  }

  function draw(data) {
    form(data);
    summary(data);
    var label = data.request.GroupBy[0].Key;
    BcmChart.stacked(document.getElementById("ce-chart"), {
      days: data.periods, series: data.series, currency: "USD",
      title: data.request.Metrics[0] + " by " + label,
    });
    table(data);
    document.getElementById("ce-request").textContent =
      "aws ce get-cost-and-usage --cli-input-json '" + JSON.stringify(data.request) + "'";
  }

  BcmPage.load(BcmPage.url(root, PARAMS, query), document.getElementById("ce-status"), draw,
    "Cost Explorer did not answer");
})();
