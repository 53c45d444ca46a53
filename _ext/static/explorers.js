/* The book's explorers on the static website (attention_utils/explorers, _ext/local_assets.py).

   Each explorer is a cell output: <div class="where-to-look-explorer">, then its Vega-Lite spec
   in a <script type="application/json">, then a loader that notebooks run (it loads Vega from a
   CDN). On the website this file, loaded in <head> before the outputs, sets whereToLookSite so
   that those loaders stand down, and embeds every explorer itself with the Vega, Vega-Lite and
   vega-embed that the site serves from _static/vega/ (or, in a build without npm, from the CDN
   named in this script's data-vega-cdn). When require.js is on the page (pages with widgets),
   the UMD bundles are loaded through it; a plain <script> would confuse require.js.
   A rendered explorer gets data-rendered="true" (the site test waits for it). */
(function () {
  "use strict";
  window.whereToLookSite = true;
  var me = document.currentScript;
  var here = me.src.replace(/[^/]*(\?.*)?$/, "");  // .../_static/
  var cdn = me.dataset.vegaCdn ? JSON.parse(me.dataset.vegaCdn) : null;
  var names = ["vega", "vega-lite", "vega-embed"];
  function url(name) {
    return cdn ? cdn[name] : here + "vega/" + name + ".min.js";
  }
  var loading = null;
  function loadVega() {
    if (window.vegaEmbed) { return Promise.resolve(window.vegaEmbed); }
    if (loading) { return loading; }
    if (typeof window.define === "function" && window.define.amd && window.requirejs) {
      var paths = {};
      names.forEach(function (n) { paths[n] = url(n).replace(/\.js$/, ""); });
      window.requirejs.config({paths: paths});
      loading = new Promise(function (ok, fail) { window.require(["vega-embed"], ok, fail); });
      return loading;
    }
    loading = names.reduce(function (done, n) {
      return done.then(function () {
        return new Promise(function (ok, fail) {
          var s = document.createElement("script");
          s.src = url(n);
          s.onload = ok;
          s.onerror = function () { fail(new Error("could not load " + s.src)); };
          document.head.appendChild(s);
        });
      });
    }, Promise.resolve()).then(function () { return window.vegaEmbed; });
    return loading;
  }
  function embedAll() {
    var divs = document.querySelectorAll("div.where-to-look-explorer");
    if (!divs.length) { return; }
    loadVega().then(function (vegaEmbed) {
      divs.forEach(function (div) {
        var spec = JSON.parse(div.nextElementSibling.textContent);
        vegaEmbed(div, spec, {actions: false, renderer: "svg"}).then(function (result) {
          div.whereToLookView = result.view;
          div.dataset.rendered = "true";
        }).catch(function (err) { console.error("explorer " + div.dataset.explorer, err); });
      });
    }).catch(function (err) { console.error("explorers: Vega did not load", err); });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", embedAll);
  } else {
    embedAll();
  }
})();
