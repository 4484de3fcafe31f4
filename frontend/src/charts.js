// SVG charts for the statistics page, drawn from the numbers without a
// library: geometry here, colours in style.css (classes: the CSP allows no
// inline style). Each chart is an <svg role="img"> named by its <title> and
// described by its <desc>, which says the numbers; the page puts a table of
// the same numbers under it. Right to left (Urdu), a chart is mirrored:
// labels start at the right and time runs from right to left.

const NS = 'http://www.w3.org/2000/svg';

// WIDTH is every chart's width in user units; the SVG scales to its box.
export const WIDTH = 320;

// mirror maps a left-to-right x (of a box w wide) into the page's direction.
export const mirror = (rtl) => (x, w = 0) => (rtl ? WIDTH - x - w : x);

// barWidths scales values to span, the largest filling it; a value above 0
// gets at least one unit, so that it never looks like none.
export function barWidths(values, span) {
  const max = Math.max(0, ...values);
  return values.map((v) => (max > 0 && v > 0 ? Math.max(1, (v / max) * span) : 0));
}

// logScale maps prices to [0, 1] over whole powers of ten around [min, max]
// (prices run from hundreds to hundreds of thousands of rupees: on a linear
// scale the cheap ones would vanish), with a tick at each power.
export function logScale(min, max) {
  const lo = Math.floor(Math.log10(Math.max(1, min)));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(1, max))));
  const ticks = [];
  for (let p = lo; p <= hi; p++) ticks.push(10 ** p);
  return { ticks, at: (v) => (Math.log10(Math.max(1, v)) - lo) / (hi - lo) };
}

const monthIndex = (k) => +k.slice(0, 4) * 12 + +k.slice(5, 7) - 1;
const monthKey = (i) => `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`;

// monthSeries turns {"YYYY-MM": count} into [{month, count}] from the first
// month to the last, months without a listing at 0, so that the chart's
// x axis is time. Over maxMonths months (a typo'd year would make
// hundreds), only the months given.
export function monthSeries(byMonth, maxMonths = 120) {
  const keys = Object.keys(byMonth || {}).filter((k) => /^\d{4}-(0[1-9]|1[0-2])$/.test(k)).sort();
  const count = (k) => Math.max(0, Number(byMonth[k]) || 0);
  if (!keys.length) return [];
  const first = monthIndex(keys[0]);
  const last = monthIndex(keys[keys.length - 1]);
  if (last - first + 1 > maxMonths) return keys.map((k) => ({ month: k, count: count(k) }));
  const out = [];
  for (let i = first; i <= last; i++) out.push({ month: monthKey(i), count: count(monthKey(i)) });
  return out;
}

function el(tag, attrs, ...children) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  for (const c of children.flat()) if (c !== null) e.append(c);
  return e;
}

// frame is an empty chart: the title and description first, as screen
// readers expect, and the text direction the chart is laid out for (so that
// text-anchor "start" is the side labels begin on).
function frame(id, height, title, desc, rtl) {
  return el('svg', {
    id, class: 'chart', viewBox: `0 0 ${WIDTH} ${Math.ceil(height)}`, role: 'img',
    'aria-labelledby': `${id}-title ${id}-desc`, direction: rtl ? 'rtl' : 'ltr',
  }, el('title', { id: id + '-title' }, title), el('desc', { id: id + '-desc' }, desc));
}

const text = (attrs, s) => el('text', attrs, s);

// barChart: one horizontal bar per row ({key, label, value}), the label at
// the start side and the value past the bar's end.
export function barChart({ id, title, desc, rows, rtl, format }) {
  const row = 40;
  const labelW = 100;
  const valueW = 84; // room for "10,000,000"
  const x0 = labelW + 8;
  const X = mirror(rtl);
  const widths = barWidths(rows.map((r) => r.value), WIDTH - x0 - valueW);
  const svg = frame(id, rows.length * row + 8, title, desc, rtl);
  rows.forEach((r, i) => {
    const y = 4 + i * row;
    const w = widths[i];
    svg.append(el('g', { 'data-key': r.key, 'data-value': r.value },
      text({ class: 'label', x: X(0), y: y + row / 2, 'dominant-baseline': 'central', 'text-anchor': 'start' }, r.label),
      el('rect', { class: 'bar', x: X(x0, w), y: y + 9, width: w, height: row - 18, rx: 3 }),
      text({ class: 'value', x: X(x0 + w + 6), y: y + row / 2, 'dominant-baseline': 'central', 'text-anchor': 'start' }, format(r.value))));
  });
  return svg;
}

// rangeChart: per row ({key, label, min, median, max}) a bar from the lowest
// to the highest price on a log scale, a dot at the median with its value
// under it, and an axis of powers of ten.
export function rangeChart({ id, title, desc, rows, rtl, format, axisLabel }) {
  const row = 64; // Nastaliq's tall letters need the room
  const pad = 26; // half the widest tick label, so that none is cut off
  const span = WIDTH - 2 * pad;
  const scale = logScale(Math.min(...rows.map((r) => r.min)), Math.max(...rows.map((r) => r.max)));
  const X = mirror(rtl);
  const at = (v) => pad + scale.at(v) * span;
  const axisY = rows.length * row + 6;
  const svg = frame(id, axisY + 46, title, desc, rtl);
  rows.forEach((r, i) => {
    const y = i * row;
    const x1 = at(r.min);
    const w = Math.max(4, at(r.max) - x1);
    const xm = at(r.median);
    // The median's value, centred under its dot but kept inside the chart.
    const xt = Math.min(WIDTH - 24, Math.max(24, xm));
    svg.append(el('g', { 'data-key': r.key, 'data-min': r.min, 'data-median': r.median, 'data-max': r.max },
      text({ class: 'label', x: X(0), y: y + 20, 'text-anchor': 'start' }, r.label),
      el('rect', { class: 'range', x: X(Math.min(x1, WIDTH - pad - w), w), y: y + 30, width: w, height: 10, rx: 5 }),
      el('circle', { class: 'median', cx: X(xm), cy: y + 35, r: 6 }),
      text({ class: 'value', x: X(xt), y: y + 58, 'text-anchor': 'middle' }, format(r.median))));
  });
  const axis = el('g', { class: 'axis' }, el('line', { x1: pad, x2: WIDTH - pad, y1: axisY, y2: axisY }));
  // Every other label when many powers of ten would crowd them.
  const every = scale.ticks.length > 5 ? 2 : 1;
  scale.ticks.forEach((t, i) => {
    const x = X(at(t));
    axis.append(el('line', { x1: x, x2: x, y1: axisY, y2: axisY + 5 }));
    if (i % every === 0) axis.append(text({ class: 'tick', x, y: axisY + 19, 'text-anchor': 'middle' }, format(t)));
  });
  axis.append(text({ class: 'tick', x: X(0), y: axisY + 40, 'text-anchor': 'start' }, axisLabel));
  svg.append(axis);
  return svg;
}

// columnChart: a column per month of series ([{month, count}]), oldest at
// the start side. A few months are each named; more, by year.
export function columnChart({ id, title, desc, series, rtl, monthLabel, yearLabel }) {
  const top = 20;
  const plotH = 110;
  const pad = 8;
  const n = series.length;
  const slot = (WIDTH - 2 * pad) / n;
  const bw = Math.max(1, Math.min(40, slot * 0.7));
  const max = Math.max(1, ...series.map((s) => s.count));
  const base = top + plotH;
  const X = mirror(rtl);
  const svg = frame(id, base + 44, title, desc, rtl);
  svg.append(el('line', { class: 'baseline', x1: pad, x2: WIDTH - pad, y1: base, y2: base }));
  let lastLabel = -Infinity;
  series.forEach((s, i) => {
    const x = pad + i * slot + (slot - bw) / 2;
    const h = (s.count / max) * plotH;
    const mid = X(x + bw / 2);
    svg.append(el('rect', { class: 'bar', x: X(x, bw), y: base - h, width: bw, height: h, 'data-month': s.month, 'data-value': s.count }));
    if (s.count > 0 && n <= 24) svg.append(text({ class: 'value', x: mid, y: base - h - 5, 'text-anchor': 'middle' }, String(s.count)));
    if (n <= 3) {
      svg.append(text({ class: 'tick', x: mid, y: base + 24, 'text-anchor': 'middle' }, monthLabel(s.month)));
    } else if ((i === 0 || s.month.endsWith('-01')) && pad + i * slot - lastLabel >= 40) {
      svg.append(text({ class: 'tick', x: X(pad + i * slot), y: base + 24, 'text-anchor': 'start' }, yearLabel(s.month)));
      lastLabel = pad + i * slot;
    }
  });
  return svg;
}
