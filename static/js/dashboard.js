// Draws the dashboard's charts from the data the page embeds with json_script; a click on a point or bar
// opens the matching inbox view (each chart carries one URL per dataset and point, null where none).
document.addEventListener("DOMContentLoaded", () => {
  const data = document.getElementById("dashboard-charts");
  if (!data || typeof Chart === "undefined") return;
  const charts = JSON.parse(data.textContent);
  for (const canvas of document.querySelectorAll("canvas[data-chart]")) {
    const spec = charts[canvas.dataset.chart];
    if (!spec) continue;
    const stacked = Boolean(spec.stacked);
    canvas.chart = new Chart(canvas, {
      type: spec.type,
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map((d) => ({ ...d, tension: 0.25, pointRadius: spec.type === "line" ? 2 : undefined })),
      },
      options: {
        animation: false,
        interaction: { mode: "nearest", intersect: spec.type !== "line" },
        plugins: { legend: { display: spec.datasets.length > 1 } },
        scales: { x: { stacked, ticks: { maxTicksLimit: 12 } }, y: { stacked, beginAtZero: true } },
        onHover: (event, elements) => {
          event.native.target.style.cursor = elements.length && urlOf(spec, elements[0]) ? "pointer" : "default";
        },
        onClick: (event, elements) => {
          const url = elements.length ? urlOf(spec, elements[0]) : null;
          if (url) window.location.assign(url);
        },
      },
    });
  }
  document.body.dataset.chartsReady = "true";
});

function urlOf(spec, element) {
  const urls = spec.urls[element.datasetIndex] || spec.urls[0];
  return urls ? urls[element.index] : null;
}
