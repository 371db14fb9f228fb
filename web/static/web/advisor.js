/* The advisor's charts: win rates with their 95% intervals against the base rate, and each
   score criterion's threshold curve (MQLs, wins kept, SAL acceptance); for the COO, the predictive
   score's calibration (mean prediction against the actual win rate, per band). */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("advisor-data");
    if (!source || typeof window.Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    var labels = document.getElementById("advisor-labels").dataset;
    var brand = "#2454d6", light = "#9db4f0", ok = "#167a48", warn = "#b25e00", bad = "#b42318";
    var common = { responsive: true, maintainAspectRatio: false, animation: false };
    var percent = function (v) { return v === null || v === undefined ? null : Math.round(v * 1000) / 10; };

    var a = data.attributes;
    var canvas = document.getElementById("attributes-chart");
    if (canvas && a.labels.length) {
      var base = percent(data.base);
      new window.Chart(canvas, {
        type: "bar",
        data: {
          labels: a.labels,
          datasets: [
            { label: labels.interval, data: a.intervals.map(function (i) { return [percent(i[0]), percent(i[1])]; }),
              backgroundColor: a.intervals.map(function (i) { return i[0] > data.base ? "rgba(22,122,72,.35)" : i[1] < data.base ? "rgba(180,35,24,.35)" : "rgba(157,180,240,.45)"; }),
              barPercentage: 0.6 },
            { label: labels.rate, type: "line", data: a.rates.map(percent), showLine: false, pointRadius: 5, borderColor: brand, backgroundColor: brand },
            { label: labels.base, type: "line", data: a.labels.map(function () { return base; }), borderColor: warn, borderDash: [6, 4], pointRadius: 0 }
          ]
        },
        options: Object.assign({}, common, {
          indexAxis: "y",
          scales: { x: { min: 0, max: 100, ticks: { callback: function (v) { return v + "%"; } } } }
        })
      });
    }

    var calibration = document.getElementById("calibration-chart");
    if (calibration && data.calibration && data.calibration.length) {
      new window.Chart(calibration, {
        type: "scatter",
        data: {
          datasets: [
            { label: labels.actual, data: data.calibration.map(function (b) { return { x: percent(b.predicted), y: percent(b.actual) }; }),
              pointRadius: data.calibration.map(function (b) { return Math.max(3, Math.min(12, Math.sqrt(b.leads))); }),
              borderColor: brand, backgroundColor: brand },
            { label: labels.perfect, type: "line", data: [{ x: 0, y: 0 }, { x: 100, y: 100 }], borderColor: warn, borderDash: [6, 4], pointRadius: 0 }
          ]
        },
        options: Object.assign({}, common, {
          scales: {
            x: { min: 0, max: 100, title: { display: true, text: labels.predicted }, ticks: { callback: function (v) { return v + "%"; } } },
            y: { min: 0, max: 100, title: { display: true, text: labels.actual }, ticks: { callback: function (v) { return v + "%"; } } }
          }
        })
      });
    }

    data.thresholds.forEach(function (t, n) {
      var box = document.getElementById("curve-" + n);
      if (!box || !t.points.length) return;
      var xs = t.points.map(function (p) { return p.threshold; });
      // The markers sit on the wins-kept line, drawn over the other lines.
      var mark = function (at) { return t.points.map(function (p) { return p.threshold === at ? percent(p.wins_kept) : null; }); };
      new window.Chart(box, {
        type: "line",
        data: {
          labels: xs,
          datasets: [
            { label: labels.mqls, data: t.points.map(function (p) { return p.mqls; }), borderColor: brand, backgroundColor: light, yAxisID: "y", fill: true, pointRadius: 0 },
            { label: labels.kept, data: t.points.map(function (p) { return percent(p.wins_kept); }), borderColor: ok, borderWidth: 3, yAxisID: "rate", pointRadius: 0 },
            { label: labels.acceptance, data: t.points.map(function (p) { return percent(p.sal_acceptance); }), borderColor: warn, yAxisID: "rate", pointRadius: 0, borderDash: [4, 3] },
            { label: labels.current, data: mark(Math.ceil(t.current)), yAxisID: "rate", showLine: false, pointRadius: 9, pointStyle: "triangle", borderColor: bad, backgroundColor: bad, order: -1 },
            { label: labels.suggested, data: mark(t.suggested), yAxisID: "rate", showLine: false, pointRadius: 9, pointStyle: "rectRot", borderColor: ok, backgroundColor: ok, order: -1 }
          ]
        },
        options: Object.assign({}, common, {
          scales: {
            y: { beginAtZero: true, title: { display: true, text: labels.mqls } },
            rate: { position: "right", min: 0, max: 105, grid: { drawOnChartArea: false }, ticks: { callback: function (v) { return v <= 100 ? v + "%" : ""; } } }
          }
        })
      });
    });
  });
})();
