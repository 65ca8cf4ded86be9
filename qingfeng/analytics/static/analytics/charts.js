/* Analytics charts: ECharts over the figures the page already shows as tables.
   Without ECharts (node_modules missing) the tables stay and nothing else happens. */
(function () {
  "use strict";
  var COLOURS = ["#9e1b1b", "#1d4f91", "#1f7a3f", "#8a5a00", "#6b4f9e", "#3c8d93", "#b4561f", "#5f6670"];

  function option(spec) {
    if (spec.kind === "treemap") {
      return {
        color: COLOURS,
        tooltip: { formatter: "{b}: {c}" },
        series: [{ type: "treemap", roam: false, nodeClick: false, breadcrumb: { show: false },
          label: { show: true, formatter: "{b}\n{c}" }, data: spec.items }]
      };
    }
    if (spec.kind === "pie") {
      return { color: COLOURS, tooltip: { trigger: "item" },
        series: [{ type: "pie", radius: ["35%", "65%"], data: spec.items, label: { formatter: "{b} {d}%" } }] };
    }
    var names = Object.keys(spec.series || {});
    var horizontal = spec.kind === "hbar";
    var many = !horizontal && (spec.labels || []).length > 8;
    var cat = { type: "category", data: spec.labels, axisLabel: { interval: 0, fontSize: 11, rotate: many ? 45 : 0 } };
    var val = { type: "value", minInterval: 1 };
    return {
      color: COLOURS,
      tooltip: { trigger: "axis" },
      legend: names.length > 1 ? { data: names, top: 0 } : undefined,
      grid: { left: horizontal ? 120 : 48, right: 16, top: names.length > 1 ? 32 : 10, bottom: many ? 60 : 30 },
      xAxis: horizontal ? val : cat,
      yAxis: horizontal ? Object.assign({}, cat, { inverse: true }) : val,
      series: names.map(function (n) {
        return { name: n, type: spec.kind === "line" ? "line" : "bar", data: spec.series[n], smooth: false };
      })
    };
  }

  function draw() {
    var source = document.getElementById("an-charts");
    if (!source || !window.echarts) return;
    var charts = JSON.parse(source.textContent);
    document.querySelectorAll("[data-an-chart]").forEach(function (el) {
      var spec = charts[el.getAttribute("data-an-chart")];
      if (!spec) return;
      if (spec.items && !spec.items.some(function (i) { return i.value > 0; })) return;
      if (spec.series && !Object.keys(spec.series).some(function (k) { return spec.series[k].some(function (v) { return v > 0; }); })) return;
      el.classList.add("an-chart--on");
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption(option(spec));
      if (spec.kind === "treemap" && spec.link) {
        chart.on("click", function (p) {
          if (p.data && p.data.code) window.location.href = spec.link + "&office=" + encodeURIComponent(p.data.code);
        });
      }
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
