/* leadflow web UI behaviour: small, progressive; every page works without it. */
(function () {
  "use strict";

  function formatSpan(ms, units) {
    // units: the page's words for days, hours and minutes ("d h m"; "日 時間 分" in Japanese)
    var u = (units || "d h m").split(" ");
    var minutes = Math.floor(Math.abs(ms) / 60000);
    var d = Math.floor(minutes / 1440), h = Math.floor((minutes % 1440) / 60), m = minutes % 60;
    if (d > 0) return d + u[0] + " " + h + u[1];
    if (h > 0) return h + u[1] + " " + m + u[2];
    return m + u[2];
  }

  function tickCountdowns() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-due]").forEach(function (el) {
      var due = Date.parse(el.dataset.due);
      if (isNaN(due)) return;
      var left = due - now;
      var template = left >= 0 ? el.dataset.left : el.dataset.overdue;
      el.textContent = (template || "%s").replace("%s", formatSpan(left, el.dataset.units));
      el.classList.toggle("overdue", left < 0);
      el.classList.toggle("soon", left >= 0 && left < 2 * 3600 * 1000);
    });
  }

  function each(root, selector, fn) {
    root.querySelectorAll(selector).forEach(function (el) {
      if (el.dataset.wired) return;
      el.dataset.wired = "1";
      fn(el);
    });
  }

  function wire(root) {
    each(root, "[data-autosubmit]", function (el) {
      el.addEventListener("change", function () { el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit(); });
    });
    each(root, "form[data-confirm]", function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      });
    });
    each(root, "[data-select-all]", function (box) {
      box.addEventListener("change", function () {
        document.querySelectorAll("input[name='" + box.dataset.selectAll + "']").forEach(function (c) { c.checked = box.checked; });
      });
    });
    each(root, "[data-add-row]", function (button) {
      button.addEventListener("click", function () {
        var template = document.getElementById(button.dataset.addRow);
        var list = document.getElementById(button.dataset.target);
        var index = Number(list.dataset.next || list.children.length);
        list.dataset.next = String(index + 1);
        var html = template.innerHTML.replace(/__i__/g, String(index));
        list.insertAdjacentHTML("beforeend", html);
        wire(list.lastElementChild);
      });
    });
    each(root, "[data-remove-row]", function (button) {
      button.addEventListener("click", function () {
        var row = button.closest("[data-row]");
        var form = row && row.closest("form");
        if (row) row.remove();
        // A removed row changes the form as much as an edited one (the what-if listens).
        if (form) form.dispatchEvent(new Event("change", { bubbles: true }));
      });
    });
    each(root, "[data-show-when]", function (el) {
      var select = document.getElementById(el.dataset.showWhen);
      if (!select) return;
      var values = (el.dataset.values || "").split(" ");
      var update = function () { el.hidden = values.indexOf(select.value) < 0; };
      select.addEventListener("change", update);
      update();
    });
    each(root, "[data-copy]", function (button) {
      button.addEventListener("click", function () {
        var source = document.getElementById(button.dataset.copy);
        if (navigator.clipboard && source) navigator.clipboard.writeText(source.textContent);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    wire(document);
    tickCountdowns();
    window.setInterval(tickCountdowns, 30000);
  });
  document.addEventListener("htmx:load", function (event) {
    wire(event.detail.elt);
    tickCountdowns();
  });
})();
