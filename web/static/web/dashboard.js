/* The dashboard's charts (Chart.js from the npm registry, served from our static files). */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("dashboard-data");
    if (!source || typeof window.Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    var labels = document.getElementById("chart-labels").dataset;
    var brand = "#2454d6", light = "#9db4f0", ok = "#167a48", warn = "#b25e00";
    var common = { responsive: true, maintainAspectRatio: false, animation: false };

    new window.Chart(document.getElementById("waterfall-chart"), {
      type: "bar",
      data: {
        labels: data.stages,
        datasets: [
          { label: labels.first, data: data.first, backgroundColor: brand, stack: "entries", yAxisID: "y" },
          { label: labels.reentry, data: data.reentry, backgroundColor: light, stack: "entries", yAxisID: "y" },
          { label: labels.conversion, type: "line", data: data.conversion.map(function (v) { return v === null ? null : Math.round(v * 1000) / 10; }),
            borderColor: ok, backgroundColor: ok, yAxisID: "rate", spanGaps: true }
        ]
      },
      options: Object.assign({}, common, {
        scales: { y: { beginAtZero: true, stacked: true }, rate: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false },
          ticks: { callback: function (v) { return v + "%"; } } } }
      })
    });
    new window.Chart(document.getElementById("velocity-chart"), {
      type: "bar",
      data: { labels: data.stages, datasets: [{ label: labels.days, data: data.median_days, backgroundColor: warn }] },
      options: Object.assign({}, common, { scales: { y: { beginAtZero: true } } })
    });
    var codes = Object.keys(data.rejections);
    new window.Chart(document.getElementById("rejections-chart"), {
      type: "bar",
      data: { labels: codes, datasets: [{ label: labels.rejections, data: codes.map(function (c) { return data.rejections[c]; }), backgroundColor: "#b42318" }] },
      options: Object.assign({}, common, { indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } })
    });
    var sources = Object.keys(data.revenue);
    new window.Chart(document.getElementById("revenue-chart"), {
      type: "bar",
      data: { labels: sources, datasets: [{ label: labels.revenue, data: sources.map(function (s) { return data.revenue[s]; }), backgroundColor: ok }] },
      options: Object.assign({}, common, { scales: { y: { beginAtZero: true } } })
    });
  });
})();
