// ReDoc started from a file of its own: the page's Content-Security-Policy allows no inline
// script. Fonts are the system's (ReDoc's defaults name web fonts that are not shipped).
"use strict";
(function () {
  var root = document.getElementById("redoc");
  var fonts = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
  Redoc.init(
    root.dataset.openapiUrl,
    { typography: { fontFamily: fonts, headings: { fontFamily: fonts } } },
    root,
  );
})();
