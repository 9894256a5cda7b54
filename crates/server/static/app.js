// Progressive enhancement: the forms work without this. With it, each field says what is wrong
// next to itself as you type (the browser's own checks, in Norwegian), and after a refused
// submit the error summary takes the focus so a screen reader reads it first.
(function () {
  "use strict";
  function message(el) {
    if (el.validity.valid) {
      var n = el.dataset.min, x = el.dataset.max, v = el.value.replace(",", ".");
      if (v !== "" && n !== undefined && (Number(v) < Number(n) || Number(v) > Number(x))) {
        return el.dataset.melding || ("mellom " + n + " og " + x);
      }
      return "";
    }
    if (el.validity.valueMissing) return el.dataset.melding || "må fylles ut";
    return el.dataset.melding || el.validationMessage;
  }
  function show(el) {
    var box = document.getElementById(el.id + "-feil");
    if (!box) return true;
    var text = message(el);
    box.textContent = text;
    if (text) { el.setAttribute("aria-invalid", "true"); } else { el.removeAttribute("aria-invalid"); }
    return !text;
  }
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("feiloppsummering");
    if (summary) summary.focus();
    document.querySelectorAll("form[data-sjekk]").forEach(function (form) {
      form.querySelectorAll("input[id], select[id], textarea[id]").forEach(function (el) {
        el.addEventListener("input", function () { if (el.getAttribute("aria-invalid") || el.dataset.rørt) show(el); });
        el.addEventListener("blur", function () { el.dataset.rørt = "1"; show(el); });
      });
    });
  });
})();
