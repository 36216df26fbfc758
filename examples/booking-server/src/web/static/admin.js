import { api, el, money, say } from "./common.js";

const history = [];
const HISTORY = 60;

async function loadMetrics() {
  try {
    const metrics = await api("GET", "/api/admin/metrics");
    document
      .getElementById("metrics")
      .replaceChildren(
        el("div", { class: "card" }, "Active users", el("strong", { id: "active-users" }, String(metrics.activeUsers))),
        el("div", { class: "card" }, "Upcoming appointments", el("strong", {}, String(metrics.upcomingAppointments))),
        el("div", { class: "card" }, "Revenue, last 30 days", el("strong", {}, money(metrics.revenueLast30DaysCents))),
      );
    return true;
  } catch (error) {
    say(
      "admin-message",
      error.status === 401 || error.status === 403
        ? "Sign in as an administrator on the home page first."
        : error.message,
      true,
    );
    return false;
  }
}

// Reads /performance (perf-timing's live stats over its sliding window) and keeps two minutes of p50, p99 and rate.
async function samplePerformance() {
  try {
    const stats = await api("GET", "/performance");
    const overall = stats.overall ?? stats.total ?? {};
    history.push({
      p50: overall.p50 ?? 0,
      p99: overall.p99 ?? 0,
      rate: overall.requestsPerSecond ?? overall.rate ?? 0,
    });
    if (history.length > HISTORY) history.shift();
    document.getElementById("score").textContent = stats.score === undefined ? "" : `Performance score: ${stats.score}`;
    draw();
  } catch (error) {
    say("perf-message", `Performance data unavailable: ${error.message}`, true);
  }
}

function draw() {
  const canvas = document.getElementById("chart");
  const ratio = window.devicePixelRatio || 1;
  canvas.width = canvas.clientWidth * ratio;
  canvas.height = canvas.clientHeight * ratio;
  const ctx = canvas.getContext("2d");
  ctx.scale(ratio, ratio);
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  ctx.clearRect(0, 0, width, height);
  const max = Math.max(1, ...history.map((h) => Math.max(h.p99, h.p50)));
  const series = [
    ["p50", "#0b6e4f"],
    ["p99", "#a1262d"],
  ];
  for (const [key, color] of series) {
    ctx.strokeStyle = color;
    ctx.beginPath();
    history.forEach((point, i) => {
      const x = (i / (HISTORY - 1)) * (width - 40) + 30;
      const y = height - 20 - (point[key] / max) * (height - 40);
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    ctx.stroke();
  }
  ctx.fillStyle = "#5b6673";
  ctx.fillText(`${max.toFixed(1)} ms`, 2, 14);
  const last = history.at(-1);
  if (last)
    ctx.fillText(
      `p50 ${last.p50.toFixed(1)} ms  p99 ${last.p99.toFixed(1)} ms  ${last.rate.toFixed(1)} req/s`,
      30,
      height - 4,
    );
}

if (await loadMetrics()) {
  await samplePerformance();
  setInterval(samplePerformance, 2000);
}
document.body.dataset.ready = "true";
