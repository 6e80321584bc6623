// Draws the volume chart from the data the page embeds with json_script.
document.addEventListener("DOMContentLoaded", () => {
  const canvas = document.getElementById("volume-chart");
  if (!canvas || typeof Chart === "undefined") return;
  const labels = JSON.parse(document.getElementById("volume-labels").textContent);
  const series = JSON.parse(document.getElementById("volume-series").textContent);
  new Chart(canvas, {
    type: "line",
    data: { labels, datasets: series.map((s) => ({ label: s.label, data: s.data, tension: 0.25, pointRadius: 0 })) },
    options: { interaction: { mode: "index", intersect: false }, scales: { x: { ticks: { maxTicksLimit: 12 } } } },
  });
});
