// The "Try it" forms of /api/docs/: send the request with fetch and show the answer.
// Translated texts come from data attributes, so this file has no words of its own.
(function () {
  "use strict";
  var tokenInput = document.getElementById("try-token");

  function send(form, event) {
    event.preventDefault();
    var status = form.querySelector(".try-status");
    var result = form.querySelector(".try-result");
    var query = new URLSearchParams();
    var headers = {"Accept": "application/json", "Accept-Language": document.documentElement.lang};
    var options = {method: form.dataset.method, headers: headers, credentials: "omit"};
    form.querySelectorAll("[data-in]").forEach(function (input) {
      if (input.value === "") { return; }
      if (input.dataset.in === "query") { query.append(input.name, input.value); }
      if (input.dataset.in === "header") { headers[input.name] = input.value; }
    });
    if (form.dataset.secured === "true" && tokenInput.value.trim()) {
      headers["Authorization"] = "Bearer " + tokenInput.value.trim();
    }
    var body = form.querySelector("textarea[name=body]");
    if (body) {
      try { JSON.parse(body.value); } catch (e) { status.textContent = form.dataset.badJson; return; }
      headers["Content-Type"] = "application/json";
      options.body = body.value;
    }
    var url = form.dataset.path + (query.toString() ? "?" + query.toString() : "");
    status.textContent = form.dataset.sending;
    result.textContent = "";
    fetch(url, options).then(function (response) {
      status.textContent = "HTTP " + response.status + " " + response.statusText;
      return response.text();
    }).then(function (text) {
      try {
        var data = JSON.parse(text);
        result.textContent = JSON.stringify(data, null, 2);
        if (form.dataset.path === "/api/tokens" && data.token) { tokenInput.value = data.token; }
      } catch (e) {
        result.textContent = text;
      }
    });
  }

  document.querySelectorAll("form.try-it").forEach(function (form) {
    form.addEventListener("submit", function (event) { send(form, event); });
  });
})();
