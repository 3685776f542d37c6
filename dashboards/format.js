// Number and time formatting shared by the views (en-US, so a page reads the same everywhere).

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

export function count(v) {
  return v === null || v === undefined ? "—" : integer.format(v);
}

/** Dollars: cents from $1, three decimals from 1¢, four significant digits below. */
export function usd(v) {
  if (v === null || v === undefined) return "—";
  const a = Math.abs(v);
  if (a >= 1000) return "$" + integer.format(v);
  if (a >= 1) return "$" + v.toFixed(2);
  if (a >= 0.01) return "$" + v.toFixed(3);
  if (a === 0) return "$0";
  return "$" + Number(v.toPrecision(4)).toString();
}

/** Large counts as 12.3k, 4.5M. */
export function compact(v) {
  if (v === null || v === undefined) return "—";
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(1) + "B";
  if (a >= 1e6) return (v / 1e6).toFixed(1) + "M";
  if (a >= 1e4) return (v / 1e3).toFixed(1) + "k";
  return integer.format(v);
}

export function percent(v, digits = 1) {
  return v === null || v === undefined || !Number.isFinite(v) ? "—" : (v * 100).toFixed(digits) + "%";
}

export function ms(v) {
  if (v === null || v === undefined) return "—";
  if (v >= 10000) return (v / 1000).toFixed(1) + " s";
  if (v >= 1000) return (v / 1000).toFixed(2) + " s";
  return (v >= 100 ? Math.round(v) : Number(v.toPrecision(3))) + " ms";
}

/** Change against the previous period: "+12.5%", "−3.0%", "new" or "—". */
export function change(current, previous) {
  if (current === null || current === undefined || previous === null || previous === undefined) return { text: "—", direction: 0 };
  if (previous === 0) return current === 0 ? { text: "±0%", direction: 0 } : { text: "new", direction: 1 };
  const ratio = (current - previous) / Math.abs(previous);
  const sign = ratio > 0 ? "+" : ratio < 0 ? "−" : "±";
  return { text: sign + Math.abs(ratio * 100).toFixed(1) + "%", direction: Math.sign(ratio) };
}

export function time(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return d.toISOString().replace("T", " ").slice(0, 19) + "Z";
}

/** A bucket label: the time for minute and hour buckets, the date for day buckets. */
export function bucketLabel(iso, interval) {
  const d = new Date(iso).toISOString();
  return interval === "day" ? d.slice(5, 10) : d.slice(5, 10) + " " + d.slice(11, 16);
}
