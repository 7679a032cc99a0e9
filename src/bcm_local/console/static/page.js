/* bcm-local console: what the pages' scripts share. Hand-written, no dependencies.
   BcmPage.node(tag, text, attrs), BcmPage.url(root, names, query): the page's JSON route
   with the page's own query; BcmPage.select(form, name, id, label, options, current): a
   selector that submits its form; BcmPage.load(url, status, draw): fetch, draw, then
   <body data-ready="true"> (or "error", the reason in `status`). */
(function () {
  "use strict";

  function node(tag, text, attrs) {
    var n = document.createElement(tag);
    if (text !== undefined && text !== null) n.textContent = text;
    Object.keys(attrs || {}).forEach(function (k) { n.setAttribute(k, attrs[k]); });
    return n;
  }

  function url(root, names, query) {
    var api = root.dataset.api, extra = new URLSearchParams();
    names.forEach(function (k) { if (query.get(k)) extra.set(k, query.get(k)); });
    var rest = extra.toString();
    return rest ? api + (api.indexOf("?") < 0 ? "?" : "&") + rest : api;
  }

  function select(form, name, id, label, options, current) {
    var wrap = node("label", label), box = node("select", null, { name: name, id: id });
    options.forEach(function (o) {
      var opt = node("option", o[1], { value: o[0] });
      if (o[0] === (current || "")) opt.selected = true;
      box.appendChild(opt);
    });
    box.addEventListener("change", function () { form.submit(); });
    wrap.appendChild(box);
    form.appendChild(wrap);
  }

  function load(address, status, draw, failure) {
    fetch(address, { headers: { accept: "application/json" } })
      .then(function (r) { return r.json().then(function (body) { return [r.ok, body]; }); })
      .then(function (res) {
        if (!res[0]) throw new Error(res[1].message || failure);
        draw(res[1]);
        status.remove();
        document.body.dataset.ready = "true";
      })
      .catch(function (err) {
        status.textContent = String(err.message || err);
        status.className = "reason";
        document.body.dataset.ready = "error";
      });
  }

  window.BcmPage = { node: node, url: url, select: select, load: load };
})();
