/* Small opt-in helpers; every page works without this file.
   data-counter="N" on a textarea shows "已输入 x / N 字" (with data-counter-min="M": "已输入 x 字（要求 M-N 字）"),
   counted as the server counts;
   data-confirm="..." on a form asks before submitting;
   data-upload on a form lists the chosen files (size, type), checks them as the server will, warns
   of a file already attached, and shows its <progress> while htmx uploads;
   data-native-submit on a formaction button submits without htmx (file downloads);
   a plain POST form is sent once per click burst (htmx forms: hx-disabled-elt on each form);
   an htmx error shows a message in the page, and focus goes to an error summary swapped in;
   data-idle-timeout on <body> warns before the session's idle timeout and offers 继续;
   data-unsaved-warning on a form asks before leaving it with unsaved changes;
   data-select-scope="NAME" on a form counts its ticked NAME boxes in [data-selected-count]
   ("已选 N 项") and shows a [data-select-all] box (全选本页) that ticks every enabled one.
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
  // data-select-scope: how many boxes are ticked, and 全选本页 (both hidden without this file)
  function selectable(form) {
    var name = form.getAttribute("data-select-scope");
    return Array.from(form.querySelectorAll("input[type=checkbox]")).filter(function (box) {
      return box.name === name && !box.disabled;
    });
  }
  function countSelected(form) {
    var boxes = selectable(form), n = boxes.filter(function (box) { return box.checked; }).length;
    var out = form.querySelector("[data-selected-count]"), all = form.querySelector("[data-select-all]");
    if (out) { out.textContent = "已选 " + n + " 项"; out.hidden = false; }
    if (all) {
      all.checked = n > 0 && n === boxes.length;
      all.indeterminate = n > 0 && n < boxes.length;
      var label = all.closest("label") || all;
      label.hidden = !boxes.length;
    }
  }
  document.addEventListener("change", function (e) {
    var form = e.target.form;
    if (!form || !form.hasAttribute("data-select-scope")) return;
    if (e.target.hasAttribute("data-select-all")) {
      selectable(form).forEach(function (box) { box.checked = e.target.checked; });
    }
    countSelected(form);
  });
  window.addEventListener("pageshow", function () {  // 返回 to the page: the browser kept the ticks
    var forms = document.querySelectorAll("form[data-select-scope]");
    for (var i = 0; i < forms.length; i++) countSelected(forms[i]);
  });
  function init(root) {
    var items = root.querySelectorAll("[data-counter]:not([data-counted])");
    for (var i = 0; i < items.length; i++) { items[i].setAttribute("data-counted", "1"); counter(items[i]); }
    var scopes = root.querySelectorAll("form[data-select-scope]");
    for (var j = 0; j < scopes.length; j++) countSelected(scopes[j]);
  }
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute && e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { e.preventDefault(); e.stopImmediatePropagation(); return; }
    // answered here: the server need not ask again on a page of its own (删除 without JavaScript)
    var marks = msg ? e.target.querySelectorAll("[data-confirmed]") : [];
    for (var i = 0; i < marks.length; i++) marks[i].value = "1";
  }, true);
  // data-upload: the chosen files with size and type, checked before sending as the server checks
  // them (the server still does): the allowed types (the input's accept), the size of each file
  // and of the request, and what the filing may still take (data-max-*). A file already attached
  // is named: by SHA-256 (crypto.subtle, as the server stores it) where the browser offers it,
  // else by the same name and size.
  function sizeLabel(n) {
    return n >= 1048576 ? (n / 1048576).toFixed(1) + " MB" : Math.max(1, Math.round(n / 1024)) + " KB";
  }
  function sha256(file) {
    if (!(window.crypto && window.crypto.subtle && file.arrayBuffer)) return Promise.resolve(null);
    return file.arrayBuffer().then(function (buffer) { return window.crypto.subtle.digest("SHA-256", buffer); })
      .then(function (digest) {
        return Array.from(new Uint8Array(digest)).map(function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
      }, function () { return null; });
  }
  function note(li, text, cls) {
    var span = document.createElement("span");
    span.className = cls;
    span.textContent = " " + text;
    li.appendChild(span);
  }
  function checkUpload(input) {
    var form = input.form, list = form.querySelector(".upload-list");
    if (!list) return;
    var accept = (input.getAttribute("accept") || "").toLowerCase().split(",");
    var num = function (name) { return parseInt(form.getAttribute(name) || "0", 10); };
    var maxFile = num("data-max-file"), maxRequest = num("data-max-request");
    var maxFiles = num("data-max-files"), maxBytes = num("data-max-bytes");
    var attached = Array.from(document.querySelectorAll("[data-attached]")).map(function (cell) {
      return { name: cell.getAttribute("data-name"), size: parseInt(cell.getAttribute("data-size"), 10), sha: cell.getAttribute("data-sha256") };
    });
    var files = Array.from(input.files), total = 0, blocked = [];
    list.innerHTML = "";
    list.hidden = !files.length;
    files.forEach(function (file) {
      var ext = ((file.name.match(/\.[^.]+$/) || [""])[0]).toLowerCase();
      var li = document.createElement("li");
      li.textContent = file.name + "（" + sizeLabel(file.size) + "，" + (ext ? ext.slice(1).toUpperCase() : "无扩展名") + "）";
      var problem = accept.indexOf(ext) < 0 ? "格式不允许上传" : file.size > maxFile ? "超过 " + Math.round(maxFile / 1048576) + "MB，不能上传" : file.size === 0 ? "是空文件" : "";
      if (problem) { note(li, problem, "error-message"); blocked.push(file.name); }
      total += file.size;
      list.appendChild(li);
      if (problem) return;
      sha256(file).then(function (hash) {
        var same = attached.filter(function (a) { return hash ? a.sha === hash : a.name === file.name && a.size === file.size; })[0];
        if (same) note(li, hash ? "与已上传的“" + same.name + "”内容相同，无需重复上传。" : "与已上传的“" + same.name + "”文件名和大小相同，可能是同一文件。", "warning-message");
      });
    });
    var summary = [];
    if (files.length > maxFiles) summary.push("本申报最多还能上传 " + Math.max(maxFiles, 0) + " 个文件。");
    if (total > maxRequest) summary.push("一次上传的文件合计不能超过 " + Math.round(maxRequest / 1048576) + "MB，请分几次上传。");
    else if (total > maxBytes) summary.push("本申报的附件合计还能上传 " + sizeLabel(Math.max(maxBytes, 0)) + "。");
    if (blocked.length) summary.push("请去掉不能上传的文件后再点击“上传”。");
    summary.forEach(function (text) {
      var li = document.createElement("li");
      li.className = "error-message";
      li.textContent = text;
      list.appendChild(li);
    });
    if (summary.length) form.setAttribute("data-upload-blocked", "1"); else form.removeAttribute("data-upload-blocked");
  }
  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches("[data-upload] input[type=file]")) checkUpload(e.target);
  });
  document.addEventListener("submit", function (e) {
    if (!e.target.hasAttribute || !e.target.hasAttribute("data-upload-blocked")) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    var list = e.target.querySelector(".upload-list");
    if (list) { list.setAttribute("tabindex", "-1"); list.focus(); }
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
    var percent = form.querySelector(".upload-percent");
    if (percent) percent.textContent = "正在上传 " + bar.value + "%";
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
  // Every htmx error shows a message in the page (409 and 422 are swapped: they carry their
  // own). The text is the error page's own (its <h1> and first paragraph) when there is one.
  var ERRORS = {
    0: "网络连接失败，请检查网络后重试。",
    400: "提交的内容无法识别或页面已过期，请刷新页面后重试。",
    401: "登录已过期，请重新登录。",
    403: "您的帐户没有进行此操作的权限。",
    404: "您访问的内容不存在或已被删除。",
    409: "该记录已被修改，请刷新页面后重试。",
    413: "上传的文件过大：单个文件不超过 50MB。",
    422: "提交的信息有误，请按提示修改。",
    429: "您的操作过于频繁，请稍后再试。"
  };
  function statusBox() {
    var box = document.getElementById("htmx-status");
    if (!box) {
      box = document.createElement("div");
      box.id = "htmx-status";
      box.className = "flash flash-error htmx-status";
      box.setAttribute("role", "alert");
      box.setAttribute("tabindex", "-1");
      var main = document.getElementById("main") || document.body;
      main.insertBefore(box, main.firstChild);
    }
    return box;
  }
  function showError(status, html) {
    var text = ERRORS[status] || "系统繁忙，请稍后再试。";
    if (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var h1 = doc.querySelector("main h1"), p = doc.querySelector("main h1 ~ p");
      if (h1 && p) text = h1.textContent.trim() + "：" + p.textContent.trim();
    }
    var box = statusBox();
    box.textContent = text + "（您填写的内容仍在页面上。）";
    box.hidden = false;
    box.focus();
  }
  document.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr;
    if (xhr.getResponseHeader("HX-Redirect")) return; // htmx is going to the login page
    showError(xhr.status, xhr.responseText);
  });
  document.addEventListener("htmx:sendError", function () { showError(0); });
  document.addEventListener("htmx:beforeRequest", function () {
    var box = document.getElementById("htmx-status");
    if (box) box.hidden = true;
  });
  // After a swap that brought an error summary (a 422), focus moves to it, as on a full page.
  // e.target is the settled element: with hx-swap="outerHTML" e.detail.target is the old one,
  // already out of the page.
  document.addEventListener("htmx:afterSettle", function (e) {
    var summary = e.target && e.target.querySelector && e.target.querySelector(".error-summary");
    if (summary) summary.focus();
  });
  // data-idle-timeout="S" on <body> (signed-in pages): warn two minutes before the server ends an
  // idle session; 继续 asks data-keepalive (any signed-in GET counts as activity). The server
  // records activity at most once a minute (auth/sessions.py TOUCH_EVERY), so the session may end
  // up to a minute before S has passed since this page: the warning comes 3 minutes ahead, leaving
  // 2 to 3 minutes (counting from the page would leave as little as 1 second).
  function idleWarning() {
    var body = document.body, seconds = parseInt(body.getAttribute("data-idle-timeout") || "0", 10);
    var ping = body.getAttribute("data-keepalive");
    if (!seconds || !ping) return;
    var warnAt = Math.max(seconds - 180, 30) * 1000, timers = [], bar = null;
    function clear() { timers.forEach(clearTimeout); timers = []; if (bar) bar.hidden = true; }
    function expired() {
      if (!bar) return;
      bar.querySelector("p").textContent = "由于长时间未操作，登录已过期。您填写的内容仍在页面上：提交时系统会暂存这些内容，重新登录后自动恢复。";
      bar.querySelector("button").hidden = true;
    }
    function warn() {
      if (!bar) {
        bar = document.createElement("div");
        bar.className = "idle-warning";
        bar.setAttribute("role", "alertdialog");
        bar.setAttribute("aria-live", "assertive");
        bar.innerHTML = "<p></p><button type=\"button\" class=\"btn btn-primary\">继续</button>";
        bar.querySelector("button").addEventListener("click", function () {
          var xhr = new XMLHttpRequest();
          xhr.open("GET", ping);
          xhr.onload = function () { if (xhr.status === 204) start(); else expired(); };
          xhr.onerror = expired;
          xhr.send();
        });
        document.body.appendChild(bar);
      }
      bar.querySelector("p").textContent = "由于长时间未操作，您的登录将在 2 至 3 分钟后过期。点击“继续”保持登录，填写的内容不会丢失。";
      bar.querySelector("button").hidden = false;
      bar.hidden = false;
      bar.querySelector("button").focus();
      timers.push(setTimeout(expired, seconds * 1000 - warnAt));
    }
    function start() { clear(); timers.push(setTimeout(warn, warnAt)); }
    document.addEventListener("htmx:afterRequest", start);
    start();
  }
  // data-unsaved-warning on a form: leaving the page (返回, the side menu, closing the tab) with
  // changes not yet saved asks first; submitting the form is not leaving.
  var dirty = null;
  document.addEventListener("input", function (e) {
    var form = e.target.form || (e.target.closest && e.target.closest("form"));
    if (form && form.hasAttribute("data-unsaved-warning")) dirty = form;
  });
  document.addEventListener("submit", function (e) { if (e.target === dirty) dirty = null; });
  document.addEventListener("htmx:beforeRequest", function (e) {
    if (dirty && e.detail.elt && (e.detail.elt === dirty || dirty.contains(e.detail.elt))) dirty = null;
  });
  window.addEventListener("beforeunload", function (e) {
    if (dirty && document.body.contains(dirty)) { e.preventDefault(); e.returnValue = ""; }
  });
  document.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest("a[href]");
    if (!link || !dirty || !document.body.contains(dirty) || dirty.contains(link) && link.hasAttribute("hx-get")) return;
    if (link.target === "_blank" || link.getAttribute("href").charAt(0) === "#") return;
    if (!window.confirm("本页有尚未保存的修改，离开后将丢失。确定离开吗？（点击“保存草稿”可先保存）")) { e.preventDefault(); return; }
    dirty = null;
  }, true);
  document.addEventListener("DOMContentLoaded", function () { init(document); idleWarning(); });
  document.addEventListener("htmx:load", function (e) { init(e.target); });
})();
