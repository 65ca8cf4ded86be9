/* Qingfeng staff workspace: small progressive enhancements. Every page works without them. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // This file is loaded with defer, so it always runs before DOMContentLoaded, and so do the
  // deferred scripts after it (ECharts): wait for that event so they are all there.
  function onReady(fn) {
    document.addEventListener("DOMContentLoaded", fn);
  }

  // Selects marked data-autosubmit submit their form on change (the language switcher).
  function initAutosubmit(root) {
    root.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }

  // Blocks marked data-show-when="name=value" show only while that radio/select has that value.
  function initShowWhen(root) {
    root.querySelectorAll("[data-show-when]").forEach(function (block) {
      var rule = block.getAttribute("data-show-when").split("=");
      var form = block.closest("form");
      if (!form || rule.length !== 2) return;
      var name = rule[0], wanted = rule[1];
      function current() {
        var checked = form.querySelector('[name="' + name + '"]:checked');
        if (checked) return checked.value;
        var select = form.querySelector('select[name="' + name + '"]');
        return select ? select.value : "";
      }
      function update() {
        var show = current() === wanted;
        // Keep blocks with errors visible so no message is hidden.
        block.hidden = !show && !block.querySelector(".field--error");
      }
      form.querySelectorAll('[name="' + name + '"]').forEach(function (input) {
        input.addEventListener("change", update);
      });
      update();
    });
  }

  // A Django formset: "add" clones the empty form, "remove" marks the row deleted and hides it.
  function initFormsets(root) {
    root.querySelectorAll("[data-formset]").forEach(function (container) {
      var prefix = container.getAttribute("data-formset");
      var form = container.closest("form");
      var total = form.querySelector('input[name="' + prefix + '-TOTAL_FORMS"]');
      var max = form.querySelector('input[name="' + prefix + '-MAX_NUM_FORMS"]');
      var template = document.getElementById("party-empty-form");
      var addButton = form.querySelector('[data-formset-add="' + prefix + '"]');

      function wireRow(row) {
        var del = row.querySelector('input[type="checkbox"][name$="-DELETE"]');
        if (!del || row.dataset.wired) return;
        row.dataset.wired = "1";
        var label = del.closest("label");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "btn btn--small party-remove";
        button.textContent = label ? label.textContent.trim() : "×";
        button.setAttribute("data-testid", "party-remove-button");
        button.addEventListener("click", function () {
          del.checked = true;
          row.classList.add("is-removed");
          row.querySelectorAll("[required]").forEach(function (el) { el.removeAttribute("required"); });
        });
        if (label) label.hidden = true;
        row.appendChild(button);
        if (del.checked) row.classList.add("is-removed");
      }

      container.querySelectorAll("[data-formset-row]").forEach(wireRow);
      if (!addButton || !template || !total) return;
      addButton.addEventListener("click", function (event) {
        event.preventDefault();
        var index = parseInt(total.value, 10) || 0;
        if (max && index >= parseInt(max.value, 10)) return;
        var html = template.innerHTML.replace(/__prefix__/g, String(index));
        var holder = document.createElement("div");
        holder.innerHTML = html.trim();
        var row = holder.firstElementChild;
        container.appendChild(row);
        total.value = String(index + 1);
        wireRow(row);
        var first = row.querySelector('input[type="text"]');
        if (first) first.focus();
      });
    });
  }

  // ECharts: elements with data-chart read their data from a json_script element.
  function initCharts(root) {
    if (!window.echarts) return;
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      var source = document.getElementById(el.getAttribute("data-chart-source"));
      if (!source || el.dataset.ready) return;
      var data = JSON.parse(source.textContent);
      el.classList.add("is-ready");
      el.dataset.ready = "1";
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption({
        color: ["#9e1b1b"],
        grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
        tooltip: { trigger: "axis" },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", data: data.labels, inverse: true },
        series: [{ type: "bar", data: data.values, barMaxWidth: 18, label: { show: true, position: "right" } }],
        aria: { enabled: true }
      });
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  function init(root) {
    initAutosubmit(root);
    initShowWhen(root);
    initFormsets(root);
    initCharts(root);
  }

  onReady(function () { init(document); });
  // ECharts is loaded with defer after this file on some pages; try again once everything is in.
  window.addEventListener("load", function () { initCharts(document); });
})();
