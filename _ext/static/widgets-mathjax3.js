/* Embedded Jupyter widgets (@jupyter-widgets/html-manager 1.x) typeset their labels with MathJax 2's
   `MathJax.Hub.Queue(["Typeset", MathJax.Hub, element])`. The site loads MathJax 3, which has no
   `Hub`, so each widget threw "Cannot read properties of undefined (reading 'Queue')".
   This gives MathJax 3 that one call. Loaded (deferred) right after MathJax by _ext/local_assets.py. */
(function () {
  "use strict";
  var mj = window.MathJax;
  if (!mj || mj.Hub || !mj.startup) {
    return;
  }
  mj.Hub = {
    Queue: function (job) {
      var element = job && job[2];
      return mj.startup.promise.then(function () {
        return mj.typesetPromise(element ? [element] : undefined);
      });
    },
  };
})();
