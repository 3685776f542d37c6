// DOM helpers. Every string from the API goes through textContent (never innerHTML), so text from
// events — prompts, feature names, error messages — is always shown, never parsed as markup.

const SVG_NS = "http://www.w3.org/2000/svg";

function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

function applyAttributes(el, attrs) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  return el;
}

/** h("div", {class: "x"}, "text", child) — an HTML element. */
export function h(tag, attrs, ...children) {
  return append(applyAttributes(document.createElement(tag), attrs), children);
}

/** s("rect", {x: 1}) — an SVG element. */
export function s(tag, attrs, ...children) {
  return append(applyAttributes(document.createElementNS(SVG_NS, tag), attrs), children);
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** A table from columns [{key, label, format, numeric}] and rows; a CSV button downloads the same cells. */
export function table(columns, rows, { caption, csvName, rowLink } = {}) {
  const head = h("tr", null, columns.map((c) => h("th", { class: c.numeric ? "num" : null, scope: "col" }, c.label)));
  const body = rows.map((row) =>
    h("tr", null, columns.map((c, i) => {
      const raw = typeof c.key === "function" ? c.key(row) : row[c.key];
      const shown = c.format ? c.format(raw, row) : raw ?? "—";
      const cell = h("td", { class: c.numeric ? "num" : null, dataset: raw !== null && raw !== undefined && typeof raw !== "object" ? { value: String(raw) } : {} });
      if (i === 0 && rowLink) append(cell, [h("a", { href: rowLink(row) }, shown)]);
      else append(cell, [shown instanceof Node ? shown : String(shown)]);
      return cell;
    })));
  const wrap = h("div", { class: "table-wrap" },
    h("table", null, caption ? h("caption", null, caption) : null, h("thead", null, head), h("tbody", null, body)));
  if (!csvName) return wrap;
  const button = h("button", { type: "button", class: "link", onclick: () => downloadCSV(csvName, columns, rows) }, "Download CSV");
  return h("div", { class: "table-block" }, h("div", { class: "table-tools" }, button), wrap);
}

export function toCSV(columns, rows) {
  const cell = (v) => {
    const text = v === null || v === undefined ? "" : String(v);
    // A leading = + - @ would make a spreadsheet run the cell as a formula.
    const safe = /^[=+\-@\t\r]/.test(text) && !/^-?\d/.test(text) ? "'" + text : text;
    return /[",\n\r]/.test(safe) ? '"' + safe.replaceAll('"', '""') + '"' : safe;
  };
  const lines = [columns.map((c) => cell(c.label)).join(",")];
  for (const row of rows) lines.push(columns.map((c) => cell(typeof c.key === "function" ? c.key(row) : row[c.key])).join(","));
  return lines.join("\r\n") + "\r\n";
}

function downloadCSV(name, columns, rows) {
  const url = URL.createObjectURL(new Blob([toCSV(columns, rows)], { type: "text/csv" }));
  const link = h("a", { href: url, download: name + ".csv", class: "hidden" });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
