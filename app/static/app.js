/* Small opt-in helpers; every page works without this file.
   data-counter="N" on a textarea shows "已输入 x / N 字" (with data-counter-min="M": "已输入 x 字（要求 M-N 字）"),
   counted as the server counts;
   data-confirm="..." on a form asks before submitting;
   data-upload on a form shows its <progress> while htmx uploads;
   data-native-submit on a formaction button submits without htmx (file downloads);
   a plain POST form is sent once per click burst (htmx forms: hx-disabled-elt on each form).
   Without this file the server alone makes a repeated POST harmless. */
(function () {
  // Characters as the server counts them (app/forms.py clean_text + CharCount): control
  // characters dropped, a line break is one character, surrounding whitespace not counted,
  // and a character outside the BMP is one, not two.
  var CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ufffe\uffff]/g;
  function serverLength(text) {
    return Array.from(text.replace(CONTROL, "").replace(/\r\n?/g, "\n").trim()).length;
  }
  function counter(el) {
    var max = parseInt(el.getAttribute("data-counter"), 10);
    var min = parseInt(el.getAttribute("data-counter-min") || "0", 10);
    var out = document.createElement("span");
    out.className = "counter";
    out.setAttribute("aria-live", "polite");
    el.parentNode.appendChild(out);
    function update() {
      var n = serverLength(el.value);
      if (min) {
        out.textContent = "已输入 " + n + " 字（要求 " + min + "-" + max + " 字）";
        out.className = n > max || (n > 0 && n < min) ? "counter over" : n >= min ? "counter ok" : "counter";
      } else {
        out.textContent = "已输入 " + n + " / " + max + " 字";
        out.className = n > max ? "counter over" : "counter";
      }
    }
    el.addEventListener("input", update);
    update();
  }
  function init(root) {
    var items = root.querySelectorAll("[data-counter]:not([data-counted])");
    for (var i = 0; i < items.length; i++) { items[i].setAttribute("data-counted", "1"); counter(items[i]); }
  }
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute && e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { e.preventDefault(); e.stopImmediatePropagation(); }
  }, true);
  // A double click on a plain (non-htmx) POST form sends it once; a file download leaves the
  // page in place, so the form is usable again after a few seconds.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (e.defaultPrevented || !form.getAttribute || (form.getAttribute("method") || "").toLowerCase() !== "post" || form.hasAttribute("hx-post")) return;
    if (form.hasAttribute("data-sending")) { e.preventDefault(); return; }
    form.setAttribute("data-sending", "1");
    form.setAttribute("aria-busy", "true");
    setTimeout(function () { form.removeAttribute("data-sending"); form.removeAttribute("aria-busy"); }, 5000);
  });
  window.addEventListener("pageshow", function () {
    var busy = document.querySelectorAll("form[data-sending]");
    for (var i = 0; i < busy.length; i++) { busy[i].removeAttribute("data-sending"); busy[i].removeAttribute("aria-busy"); }
  });
  // Upload progress for forms marked data-upload (htmx reports XHR progress).
  document.addEventListener("htmx:xhr:progress", function (e) {
    var form = e.target.closest && e.target.closest("[data-upload]");
    var bar = form && form.querySelector("progress");
    if (!bar || !e.detail.lengthComputable) return;
    bar.hidden = false;
    bar.value = Math.round((e.detail.loaded / e.detail.total) * 100);
  });
  // data-native-submit on a submit button with formaction: a plain (non-htmx) submission, for a
  // button that downloads a file built from the form's current values.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest("button[data-native-submit]");
    if (!btn || !btn.form) return;
    e.preventDefault();
    var form = btn.form, action = form.getAttribute("action");
    form.setAttribute("action", btn.getAttribute("formaction"));
    HTMLFormElement.prototype.submit.call(form);
    form.setAttribute("action", action);
  });
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (e) { init(e.target); });
})();
