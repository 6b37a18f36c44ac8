// meshform portal: search and filter the marketplace in the page. No library, no network:
// the index is the JSON embedded in index.html. A product matches when every query word
// (stop words dropped, as `meshform discover` does) begins a word of its name, description,
// tables and columns, or owners; matches are ranked name > description > schema > owners.
// The page's state lives in its URL (?q=&domain=&classification=&owner=), so a search is a link.
(function () {
  "use strict";
  var indexNode = document.getElementById("search-index");
  var list = document.getElementById("products");
  if (!indexNode || !list) { return; }
  var data = JSON.parse(indexNode.textContent);
  var stop = new Set(data.stop_words);
  var WEIGHTS = [10, 4, 2, 1];
  var controls = {
    q: document.getElementById("q"),
    domain: document.getElementById("domain"),
    classification: document.getElementById("classification"),
    owner: document.getElementById("owner"),
    decommissioned: document.getElementById("decommissioned")
  };
  var count = document.getElementById("count");
  var none = document.getElementById("none");

  function words(text) {
    return String(text).toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  }
  function queryWords(text) {
    var all = words(text);
    var kept = all.filter(function (w) { return !stop.has(w); });
    return Array.from(new Set(kept.length ? kept : all)).map(function (w) {
      return w.length > 3 && w.endsWith("s") ? w.slice(0, -1) : w;  // "orders" finds "order"
    });
  }

  var items = {};
  Array.prototype.forEach.call(list.querySelectorAll("li.product"), function (li) { items[li.dataset.key] = li; });
  var entries = data.products.map(function (e) {
    var li = items[e[0]];
    return {
      key: e[0], li: li, fields: e.slice(1).map(words), owners: e[4].toLowerCase().split(" "),
      domain: li.dataset.domain, classification: li.dataset.classification, status: li.dataset.status
    };
  });

  function score(entry, qwords) {
    var total = 0;
    for (var i = 0; i < qwords.length; i++) {
      var best = 0;
      for (var f = 0; f < entry.fields.length && !best; f++) {
        if (entry.fields[f].some(function (w) { return w.startsWith(qwords[i]); })) { best = WEIGHTS[f]; }
      }
      if (!best) { return 0; }
      total += best;
    }
    return total || 1;
  }

  function state() {
    return {
      q: controls.q.value.trim(), domain: controls.domain.value, classification: controls.classification.value,
      owner: controls.owner.value.trim().toLowerCase(), decommissioned: controls.decommissioned.checked
    };
  }

  function apply() {
    var s = state();
    var qwords = queryWords(s.q);
    var shown = [];
    entries.forEach(function (entry) {
      var ok = (!s.domain || entry.domain === s.domain)
        && (!s.classification || entry.classification === s.classification)
        && (!s.owner || entry.owners.some(function (o) { return o.indexOf(s.owner) >= 0; }))
        && (s.decommissioned || entry.status !== "decommissioned");
      var points = ok ? (qwords.length ? score(entry, qwords) : 1) : 0;
      entry.li.hidden = !points;
      if (points) { shown.push([points, entry]); }
    });
    shown.sort(function (a, b) { return b[0] - a[0] || (a[1].key < b[1].key ? -1 : 1); });
    var fragment = document.createDocumentFragment();
    shown.forEach(function (pair) { fragment.appendChild(pair[1].li); });
    entries.forEach(function (entry) { if (entry.li.hidden) { fragment.appendChild(entry.li); } });
    list.appendChild(fragment);
    count.textContent = shown.length === entries.length ? entries.length + " products"
      : shown.length + " of " + entries.length + " products";
    none.hidden = shown.length > 0;
    remember(s);
  }

  function remember(s) {
    var params = new URLSearchParams();
    if (s.q) { params.set("q", s.q); }
    if (s.domain) { params.set("domain", s.domain); }
    if (s.classification) { params.set("classification", s.classification); }
    if (controls.owner.value.trim()) { params.set("owner", controls.owner.value.trim()); }
    if (s.decommissioned) { params.set("decommissioned", "1"); }
    var query = params.toString();
    try {
      history.replaceState(null, "", location.pathname + (query ? "?" + query : "") + location.hash);
    } catch (e) { /* some browsers refuse it on file:// pages; the search still works */ }
  }

  function choose(select, value) {
    if (value && Array.prototype.some.call(select.options, function (o) { return o.value === value; })) {
      select.value = value;
    }
  }

  var params = new URLSearchParams(location.search);
  controls.q.value = params.get("q") || "";
  choose(controls.domain, params.get("domain"));
  choose(controls.classification, params.get("classification"));
  controls.owner.value = params.get("owner") || "";
  controls.decommissioned.checked = params.get("decommissioned") === "1";
  document.getElementById("search").addEventListener("submit", function (event) { event.preventDefault(); apply(); });
  ["input", "change"].forEach(function (type) {
    Object.keys(controls).forEach(function (name) { controls[name].addEventListener(type, apply); });
  });
  apply();
})();
