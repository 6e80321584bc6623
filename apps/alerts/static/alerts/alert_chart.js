// Draws an alert's hourly series with the usual level (median) and the band up to the alarm level, from the
// data the page embeds with json_script.
document.addEventListener("DOMContentLoaded", () => {
  const canvas = document.getElementById("alert-chart");
  if (!canvas || typeof Chart === "undefined") return;
  const chart = JSON.parse(document.getElementById("alert-chart-data").textContent);
  new Chart(canvas, {
    type: "line",
    data: {
      labels: chart.labels,
      datasets: [
        { label: `Observed (${chart.unit})`, data: chart.observed, borderColor: "#dc2626", pointRadius: 1, tension: 0.2 },
        { label: "Usual (median of previous weeks)", data: chart.median, borderColor: "#64748b", borderDash: [4, 4], pointRadius: 0 },
        { label: "Usual range", data: chart.low, borderColor: "transparent", pointRadius: 0, fill: false },
        { label: "Alarm level", data: chart.high, borderColor: "#94a3b8", backgroundColor: "rgba(148,163,184,0.2)", pointRadius: 0, fill: "-1" },
      ],
    },
    options: { interaction: { mode: "index", intersect: false }, scales: { x: { ticks: { maxTicksLimit: 12 } } } },
  });
});
