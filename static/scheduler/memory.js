// Draws the memory page's three charts from the JSON the page embeds (#memory-data).
document.addEventListener("DOMContentLoaded", () => {
  const data = JSON.parse(document.getElementById("memory-data").textContent);
  const days = (n) => Array.from({ length: n }, (_, i) => i);
  const curves = document.getElementById("curves-chart");
  if (curves && data.curves.length) {
    const length = data.curves[0].recall.length;
    new Chart(curves, {
      type: "line",
      data: {
        labels: days(length),
        datasets: [
          ...data.curves.map((c, i) => ({ label: c.label, data: c.recall, borderWidth: i === 0 ? 3 : 1, pointRadius: 0 })),
          { label: "target retention", data: Array(length).fill(data.target), borderDash: [6, 4], pointRadius: 0 },
        ],
      },
      options: { scales: { y: { min: 0, max: 1 }, x: { title: { display: true, text: "days from now" } } } },
    });
  }
  const concepts = document.getElementById("concepts-chart");
  if (concepts && Object.keys(data.concepts).length) {
    new Chart(concepts, {
      type: "line",
      data: {
        datasets: Object.entries(data.concepts).map(([name, points]) => ({
          label: name, data: points.map(([, p], i) => ({ x: i + 1, y: p })), pointRadius: 0,
        })),
      },
      options: { parsing: true, scales: { x: { type: "linear", title: { display: true, text: "attempt" } }, y: { min: 0, max: 1 } } },
    });
  }
  const forecast = document.getElementById("forecast-chart");
  if (forecast) {
    new Chart(forecast, {
      type: "bar",
      data: { labels: data.forecast.map(([day]) => day.slice(5)), datasets: [{ label: "due", data: data.forecast.map(([, n]) => n) }] },
      options: { plugins: { legend: { display: false } } },
    });
  }
});
