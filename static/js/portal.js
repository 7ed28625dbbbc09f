// Behaviour of the portal's pages, from data attributes (the Content-Security-Policy allows no
// inline script or handler).
document.querySelectorAll("select[data-submit-on-change]").forEach(function (select) {
  select.addEventListener("change", function () {
    select.form.submit();
  });
});

document.querySelectorAll("[data-copy-target]").forEach(function (button) {
  button.addEventListener("click", function () {
    var field = document.getElementById(button.dataset.copyTarget);
    field.select();
    navigator.clipboard.writeText(field.value).then(function () {
      button.textContent = button.dataset.copiedText;
    });
  });
});
