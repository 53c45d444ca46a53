/* Above each cell output that holds an ipywidgets control (hidden on the static site by
   widgets-static.css), one line saying that the controls need a kernel and how to get one, in the
   page's language. The widget manager renders the widgets after the page has loaded, so the
   outputs are looked at again whenever it adds something. */
(function () {
  "use strict";
  var TEXT = {
    en: "A static picture: its controls need a running Python kernel. Open this chapter with " +
        "Binder or Live Code (the rocket icon at the top of the page), or in Jupyter, to move them.",
    zh: "这是静态图片：调节它的控件需要运行中的 Python 内核。点击页面顶部的火箭图标，用 Binder 或 " +
        "Live Code 打开本章（或在 Jupyter 中打开），即可操作。"
  };
  var CONTROLS = ["widget-slider", "widget-hslider", "widget-vslider", "widget-dropdown", "widget-text", "widget-textarea", "widget-checkbox", "widget-toggle-button", "widget-toggle-buttons", "widget-button", "widget-radio", "widget-select", "widget-select-multiple", "widget-colorpicker", "widget-datepicker", "widget-play", "widget-upload", "widget-combobox", "widget-tagsinput"];
  var selector = CONTROLS.map(function (c) { return ".cell_output .jupyter-widgets." + c; })
    .concat([".cell_output .jupyter-widgets input", ".cell_output .jupyter-widgets select",
             ".cell_output .jupyter-widgets button"]).join(", ");
  function lang() {
    return (document.documentElement.lang || "en").toLowerCase().indexOf("zh") === 0 ? "zh" : "en";
  }
  function scan() {
    document.querySelectorAll(selector).forEach(function (control) {
      var output = control.closest(".cell_output");
      if (!output || output.querySelector(".where-to-look-static-note")) { return; }
      var p = document.createElement("p");
      p.className = "where-to-look-static-note";
      p.textContent = TEXT[lang()];
      output.insertBefore(p, output.firstChild);
    });
  }
  function start() {
    scan();
    var pending = false;
    new MutationObserver(function () {
      if (pending) { return; }
      pending = true;
      window.requestAnimationFrame(function () { pending = false; scan(); });
    }).observe(document.body, {childList: true, subtree: true});
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
