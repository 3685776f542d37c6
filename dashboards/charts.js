// Hand-rolled SVG charts: stacked bars over time, lines over time, horizontal bars, latency bands.
// Sizes are in viewBox units; the SVG scales to its container's width.

import { h, s } from "./dom.js";
import { bucketLabel } from "./format.js";

export const PALETTE = ["#4f7cff", "#f2994a", "#27ae60", "#eb5757", "#9b51e0", "#2d9cdb", "#f2c94c", "#828282"];
const LEFT = 64, RIGHT = 12, TOP = 14, BOTTOM = 28;
// Drawn at about the size it is shown, so the axis text stays readable from a phone to a wide screen.
let W = 640, H = 240;
function size() {
  W = Math.round(Math.min(1240, Math.max(320, window.innerWidth - 72)));
  H = W < 600 ? 200 : 260;
}

/** Every bucket start from `from` to `to` for an interval (UTC), as epoch ms. */
export function bucketsOf(range, interval) {
  const step = { minute: 60e3, hour: 3600e3, day: 86400e3 }[interval];
  const out = [];
  for (let t = Math.floor(range.from.getTime() / step) * step; t < range.to.getTime(); t += step) out.push(t);
  return out;
}

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function frame(max, format, buckets, interval, label) {
  const plotH = H - TOP - BOTTOM;
  const g = [];
  for (const f of [0, 0.5, 1]) {
    const y = TOP + plotH * (1 - f);
    g.push(s("line", { x1: LEFT, x2: W - RIGHT, y1: y, y2: y, class: "grid" }));
    g.push(s("text", { x: LEFT - 6, y: y + 4, "text-anchor": "end", class: "axis" }, format(max * f)));
  }
  const n = buckets.length;
  const picks = n <= 1 ? [0] : [0, Math.floor((n - 1) / 2), n - 1];
  for (const i of new Set(picks)) {
    const x = LEFT + ((i + 0.5) / Math.max(n, 1)) * (W - LEFT - RIGHT);
    g.push(s("text", { x, y: H - 8, "text-anchor": i === 0 && n > 1 ? "start" : i === n - 1 && n > 1 ? "end" : "middle", class: "axis" },
      bucketLabel(buckets[i], interval)));
  }
  return s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": label, class: "chart" }, g);
}

function legend(names) {
  return h("ul", { class: "legend" }, names.map((name, i) =>
    h("li", null, h("span", { class: "swatch c" + (i % PALETTE.length) }), name)));
}

/** series: [{name, values: Map(bucketMs → number)}], stacked per bucket. */
export function stackedBars(series, buckets, { interval, format, label }) {
  size();
  const totals = buckets.map((b) => series.reduce((sum, se) => sum + (se.values.get(b) || 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const svg = frame(max, format, buckets, interval, label);
  const plotH = H - TOP - BOTTOM, slot = (W - LEFT - RIGHT) / Math.max(buckets.length, 1);
  buckets.forEach((b, i) => {
    let y = TOP + plotH;
    series.forEach((se, k) => {
      const v = se.values.get(b) || 0;
      if (v <= 0) return;
      const hgt = (v / max) * plotH;
      y -= hgt;
      svg.append(s("rect", { x: LEFT + i * slot + slot * 0.1, y, width: Math.max(slot * 0.8, 0.5), height: hgt, fill: PALETTE[k % PALETTE.length] },
        s("title", null, `${se.name} · ${bucketLabel(b, interval)}: ${format(v)}`)));
    });
  });
  return h("figure", { class: "chart-box" }, svg, legend(series.map((se) => se.name)));
}

/** series: [{name, values: Map(bucketMs → number|null)}]; a null breaks the line. */
export function lines(series, buckets, { interval, format, label, max: fixedMax }) {
  size();
  let top = 0;
  for (const se of series) for (const v of se.values.values()) if (v !== null && v > top) top = v;
  const max = fixedMax ?? niceMax(top);
  const svg = frame(max, format, buckets, interval, label);
  const plotH = H - TOP - BOTTOM, slot = (W - LEFT - RIGHT) / Math.max(buckets.length, 1);
  series.forEach((se, k) => {
    let path = "", pen = false;
    buckets.forEach((b, i) => {
      const v = se.values.get(b);
      if (v === null || v === undefined) { pen = false; return; }
      const x = LEFT + (i + 0.5) * slot, y = TOP + plotH * (1 - Math.min(v / max, 1));
      path += (pen ? "L" : "M") + x.toFixed(1) + " " + y.toFixed(1);
      pen = true;
      svg.append(s("circle", { cx: x, cy: y, r: 2.2, fill: PALETTE[k % PALETTE.length] },
        s("title", null, `${se.name} · ${bucketLabel(b, interval)}: ${format(v)}`)));
    });
    if (path) svg.insertBefore(s("path", { d: path, fill: "none", stroke: PALETTE[k % PALETTE.length], "stroke-width": 2 }), svg.firstChild.nextSibling);
  });
  return h("figure", { class: "chart-box" }, svg, legend(series.map((se) => se.name)));
}

/** items: [{name, value}] as horizontal bars, largest first. */
export function hbars(items, { format, label }) {
  const max = Math.max(0, ...items.map((i) => i.value)) || 1;
  return h("figure", { class: "hbars", "aria-label": label },
    items.map((item, k) => h("div", { class: "hbar" },
      h("span", { class: "hbar-name", title: item.name }, item.name),
      h("span", { class: "hbar-track" }, meter(item.value / max, k)),
      h("span", { class: "hbar-value" }, format(item.value)))));
}

/** A bar whose width is set through SVG (no inline style: the CSP forbids it). */
export function meter(fraction, colorIndex = 0) {
  const width = Math.max(0, Math.min(1, fraction)) * 100;
  return s("svg", { viewBox: "0 0 100 10", preserveAspectRatio: "none", class: "meter" },
    s("rect", { x: 0, y: 0, width: 100, height: 10, class: "meter-bg" }),
    s("rect", { x: 0, y: 0, width, height: 10, fill: PALETTE[colorIndex % PALETTE.length] }));
}

/** bands: [{label, count, title?}] as equal-width bars, their height the number of calls in the band. */
export function bands(items, { label }) {
  size();
  const max = Math.max(...items.map((b) => b.count), 1), plotH = H - TOP - BOTTOM - 14;
  const slot = (W - LEFT - RIGHT) / Math.max(items.length, 1);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": label, class: "chart" },
    s("line", { x1: LEFT, x2: W - RIGHT, y1: TOP + 14 + plotH, y2: TOP + 14 + plotH, class: "grid" }));
  items.forEach((b, i) => {
    const hgt = (b.count / max) * plotH, x = LEFT + i * slot;
    svg.append(s("rect", { x: x + slot * 0.08, y: TOP + 14 + plotH - hgt, width: slot * 0.84, height: hgt, fill: PALETTE[i % PALETTE.length] },
      s("title", null, `${b.title ?? b.label}: ${b.count} calls`)));
    // Many narrow bars: label every few so the axis stays readable.
    const every = Math.ceil(items.length / 8);
    if (items.length <= 8) svg.append(s("text", { x: x + slot / 2, y: TOP + 14 + plotH - hgt - 4, "text-anchor": "middle", class: "axis" }, String(b.count)));
    if (i % every === 0) svg.append(s("text", { x: x + slot / 2, y: H - 8, "text-anchor": "middle", class: "axis" }, b.label));
  });
  return h("figure", { class: "chart-box" }, svg);
}
