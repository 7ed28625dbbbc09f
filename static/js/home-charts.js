// Draws the partner home's charts from the data the page passes with json_script
// (id "home-chart-data"); each chart's table alternative is in the page itself.
(function () {
  "use strict";
  var source = document.getElementById("home-chart-data");
  if (!source || typeof window.Chart === "undefined") {
    return;
  }
  var palette = ["#0d6efd", "#dc3545", "#198754", "#fd7e14", "#6f42c1", "#20c997", "#6c757d", "#ffc107"];
  var language = document.documentElement.lang || undefined;
  JSON.parse(source.textContent).forEach(function (chart) {
    var canvas = document.getElementById(chart.id);
    if (!canvas) {
      return;
    }
    var round = chart.type === "doughnut";
    var datasets = chart.series.map(function (series, i) {
      return {
        label: series.label,
        data: series.values.map(Number),
        backgroundColor: round ? palette : palette[i % palette.length],
        borderColor: round ? "#fff" : palette[i % palette.length],
        tension: 0.2
      };
    });
    var format = new Intl.NumberFormat(language, chart.money ? {minimumFractionDigits: 2, maximumFractionDigits: 2} : {});
    new window.Chart(canvas, {
      type: chart.type,
      data: {labels: chart.labels, datasets: datasets},
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: {position: "bottom"},
          tooltip: {callbacks: {label: function (item) {
            return (item.dataset.label ? item.dataset.label + ": " : "") + format.format(item.raw);
          }}}
        },
        scales: round ? {} : {y: {beginAtZero: true, ticks: {precision: 0, callback: function (v) { return format.format(v); }}}}
      }
    });
  });
})();
