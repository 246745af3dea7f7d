// Swagger UI's settings, as FastAPI's get_swagger_ui_html gives them, in a file of its own:
// the page's Content-Security-Policy allows no inline script.
"use strict";
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    // The default sends the schema to validator.swagger.io for a badge: nothing leaves.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
  });
})();
