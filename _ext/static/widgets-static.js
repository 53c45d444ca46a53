/* Above each output that holds ipywidgets (hidden on the static site by widgets-static.css), one
   line saying that its controls need a kernel and how to get one. In the page's language. */
(function () {
  "use strict";
  var TEXT = {
    en: "A static picture: its controls need a running Python kernel. Open this chapter with " +
        "Binder or Live Code (the rocket icon at the top of the page), or in Jupyter, to move them.",
    zh: "这是静态图片：调节它的控件需要运行中的 Python 内核。点击页面顶部的火箭图标，用 Binder 或 " +
        "Live Code 打开本章（或在 Jupyter 中打开），即可操作。"
  };
  function note() {
    var lang = (document.documentElement.lang || "en").toLowerCase().indexOf("zh") === 0 ? "zh" : "en";
    var views = document.querySelectorAll(
      'script[type="application/vnd.jupyter.widget-view+json"], .cell_output .jupyter-widgets');
    views.forEach(function (view) {
      var output = view.closest(".cell_output") || view.parentElement;
      if (!output || output.querySelector(".where-to-look-static-note")) { return; }
      var p = document.createElement("p");
      p.className = "where-to-look-static-note";
      p.textContent = TEXT[lang];
      output.insertBefore(p, output.firstChild);
    });
  }
  // The widget manager replaces each view <script> with the widget, at a time of its choosing:
  // look for either, when the document is parsed and again when everything has loaded.
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", note);
  } else {
    note();
  }
  window.addEventListener("load", note);
})();
