/* Progressive enhancements for the public portal. Every page works without this file. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  ready(function () {
    // Language switch: submit on change.
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });

    // Real-name fields only when a real-name report is chosen.
    var realname = document.querySelector("[data-realname]");
    if (realname) {
      var radios = document.querySelectorAll('input[name="anonymous"]');
      var sync = function () {
        var chosen = document.querySelector('input[name="anonymous"]:checked');
        realname.hidden = !chosen || chosen.value !== "real_name";
      };
      radios.forEach(function (r) { r.addEventListener("change", sync); });
      sync();
    }

    // Region lists: province -> cities -> counties, fetched as JSON.
    var box = document.querySelector("[data-regions]");
    if (box) {
      var url = box.getAttribute("data-regions-url");
      var province = box.querySelector('select[name="region_province"]');
      var city = box.querySelector('select[name="region_city"]');
      var county = box.querySelector('select[name="region_county"]');
      var fill = function (select, code) {
        var first = select.options[0];
        select.innerHTML = "";
        select.appendChild(first);
        select.value = "";
        if (!code) return Promise.resolve();
        return fetch(url.replace("CODE", encodeURIComponent(code)), { headers: { Accept: "application/json" } })
          .then(function (r) { return r.ok ? r.json() : { children: [] }; })
          .then(function (data) {
            data.children.forEach(function (item) {
              var opt = document.createElement("option");
              opt.value = item.code;
              opt.textContent = item.name;
              select.appendChild(opt);
            });
            select.disabled = data.children.length === 0;
          });
      };
      province.addEventListener("change", function () {
        fill(county, "");
        fill(city, province.value);
      });
      city.addEventListener("change", function () { fill(county, city.value); });
    }

    // Print and copy buttons are only useful with script.
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      if (!navigator.clipboard) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
          button.classList.add("is-done");
        });
      });
    });

    // One click sends the report once (the server also ignores a second copy).
    document.querySelectorAll("form").forEach(function (form) {
      var once = form.querySelector("[data-once]");
      if (!once) return;
      form.addEventListener("submit", function (event) {
        if (event.submitter && event.submitter !== once) return;
        if (form.dataset.sent) { event.preventDefault(); return; }
        form.dataset.sent = "1";
        window.setTimeout(function () { once.disabled = true; }, 0);
      });
    });
  });
})();
