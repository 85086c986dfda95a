// Starts Swagger UI on /api/v1/docs from the page's JSON data (no inline script, for the CSP).
"use strict";

(function () {
  const data = JSON.parse(document.getElementById("page-data").textContent);
  const config = {url: data.url, dom_id: data.dom_id, validatorUrl: data.validatorUrl};
  Object.assign(config, data.config || {});
  window.ui = SwaggerUIBundle(config);
})();
