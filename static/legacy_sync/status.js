/* The migration status page's behaviour on top of the server-rendered figures:
 * the throughput chart (Chart.js), kept up to date as htmx swaps in fresh data, and the
 * open/closed state of <details> boxes, which a swap would otherwise reset. */
(function () {
  "use strict";

  var SERIES = [
    { key: "outbox_sent", label: "Outbox entries sent to v1", color: "#2b5d8a" },
    { key: "v1_rows_pulled", label: "Attempts from v1", color: "#d08a1f" },
    { key: "v2_attempts", label: "Attempts written in v2", color: "#3f8f4f" },
  ];
  var chart = null;
  var drawnText = null;

  function readSeries() {
    // Null when there is nothing new: every fragment's swap calls drawChart.
    var node = document.getElementById("throughput-series");
    if (!node || node.textContent === drawnText) return null;
    drawnText = node.textContent;
    return JSON.parse(drawnText);
  }

  function chartData(series) {
    return {
      // ISO minutes in UTC ("2025-01-01T12:34:00Z"): the label is the clock time.
      labels: series.per_minute.map(function (row) { return row.minute.slice(11, 16); }),
      datasets: SERIES.map(function (s) {
        return {
          label: s.label,
          data: series.per_minute.map(function (row) { return row[s.key]; }),
          borderColor: s.color,
          backgroundColor: s.color,
          pointRadius: 0,
          borderWidth: 2,
          tension: 0.2,
        };
      }),
    };
  }

  function drawChart() {
    var canvas = document.getElementById("throughput-chart");
    if (!canvas || typeof window.Chart === "undefined") return;
    var series = readSeries();
    if (!series) return;
    if (chart) {
      var fresh = chartData(series);
      chart.data.labels = fresh.labels;
      fresh.datasets.forEach(function (d, i) { chart.data.datasets[i].data = d.data; });
      chart.update("none");
      return;
    }
    canvas.parentElement.hidden = false;
    chart = new window.Chart(canvas, {
      type: "line",
      data: chartData(series),
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { title: { display: true, text: "minute (UTC)" }, ticks: { maxTicksLimit: 12 } },
          y: { beginAtZero: true, title: { display: true, text: "rows per minute" }, ticks: { precision: 0 } },
        },
      },
    });
  }

  // Which <details> staff opened, by id; "toggle" does not bubble, so listen in capture.
  var openIds = new Set();
  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (!details.id || details.tagName !== "DETAILS") return;
    if (details.open) openIds.add(details.id); else openIds.delete(details.id);
  }, true);
  document.addEventListener("htmx:afterSettle", function () {
    openIds.forEach(function (id) {
      var details = document.getElementById(id);
      if (details) details.open = true;
    });
    drawChart();
  });
  document.addEventListener("DOMContentLoaded", drawChart);
})();
