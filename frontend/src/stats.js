// The statistics page: fetches /v1/stats once and draws it, charts and
// tables, in the chosen language. It asks nothing about the visitor and
// stores nothing but the language choice, under the citizen page's key.

import { KIND_TABLE } from './kinds.gen.js';
import { STRINGS, pickLang, formatDate, formatMonth, formatRetry, groupDigits } from './i18n.js';
import { barChart, rangeChart, columnChart, monthSeries } from './charts.js';
import { h, applyLanguage } from './dom.js';
import { CODE_RATE_LIMITED, ROUTE_STATS } from './wire.gen.js';

const LANG_KEY = 'khabardar.lang';
const TIMEOUT_MS = 30000;
const KINDS = KIND_TABLE.map((k) => k.name); // identifier's kinds (kinds.gen.js)

const $ = (id) => document.getElementById(id);

const state = {
  lang: pickLang(readSaved(), navigator.languages || [navigator.language]),
  stats: null,
  error: null, // {code: 'failed' | 'rate_limited', retryAt}
};

function readSaved() {
  try {
    return localStorage.getItem(LANG_KEY);
  } catch {
    return null;
  }
}

const t = () => STRINGS[state.lang];

// ---- fetching ----

const count = (v) => (Number.isFinite(Number(v)) && Number(v) >= 0 ? Number(v) : 0);
const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

// checked keeps what the page draws from a /v1/stats body, as numbers and
// strings, or returns null if its shape is not that of openapi.yaml's Stats.
function checked(v) {
  if (!isObject(v) || !isObject(v.exposures) || !isObject(v.fabricated_exposures) || !isObject(v.listings) ||
      !Array.isArray(v.by_listing) || !Array.isArray(v.by_category) || !isObject(v.first_seen_by_month)) {
    return null;
  }
  const kinds = (e) => Object.fromEntries([...KINDS, 'total'].map((k) => [k, count(e && e[k])]));
  return {
    exposures: kinds(v.exposures),
    fabricatedExposures: kinds(v.fabricated_exposures),
    listings: { total: count(v.listings.total), counted: count(v.listings.counted), fabricated: count(v.listings.fabricated) },
    byListing: v.by_listing.filter(isObject).map((l) => ({
      id: String(l.id), title: String(l.title || l.id), firstSeen: String(l.first_seen || ''), exposures: kinds(l.exposures),
      verified: l.verified === true, fabricated: l.fabricated === true, sensitive: l.sensitive === true,
    })),
    byCategory: v.by_category.filter(isObject).map((c) => ({
      category: String(c.category), listings: count(c.listings), exposures: kinds(c.exposures),
      price: isObject(c.price_pkr) ? { min: count(c.price_pkr.min), median: count(c.price_pkr.median), max: count(c.price_pkr.max) } : null,
    })),
    byMonth: v.first_seen_by_month,
  };
}

async function load() {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
  try {
    const resp = await fetch(new URL(ROUTE_STATS, document.baseURI).href, {
      headers: { Accept: 'application/json' }, credentials: 'omit', referrerPolicy: 'no-referrer', signal: ctl.signal,
    });
    const body = await resp.text();
    if (resp.status === 429) {
      const secs = (resp.headers.get('Retry-After') || '').trim();
      return { error: { code: CODE_RATE_LIMITED, retryAt: /^\d+$/.test(secs) ? new Date(Date.now() + secs * 1000) : null } };
    }
    const stats = resp.ok ? checked(JSON.parse(body)) : null;
    return stats ? { stats } : { error: { code: 'failed' } };
  } catch {
    return { error: { code: 'failed' } }; // offline, timed out, or not JSON
  } finally {
    clearTimeout(timer);
  }
}

// ---- drawing ----

// table is a data table labelled by the section's heading, inside a box
// that scrolls sideways on a narrow screen rather than widening the page.
// head lists the column headings, numbers' marked with a leading '#'.
function table(id, labelledBy, head, rows) {
  return h('div', { class: 'table-wrap' },
    h('table', { id, class: 'data', 'aria-labelledby': labelledBy },
      h('thead', null, h('tr', null, head.map((c) => (c[0] === '#'
        ? h('th', { scope: 'col', class: 'num' }, c.slice(1)) : h('th', { scope: 'col' }, c))))),
      h('tbody', null, rows)));
}

// row is a table row: a heading cell, then number cells.
const row = (attrs, first, ...nums) => h('tr', attrs, h('th', { scope: 'row' }, first), nums.map((n) => h('td', { class: 'num' }, n)));

function section(id, title, ...content) {
  return h('section', { id, class: 'stats-section', 'aria-labelledby': id + '-h' }, h('h2', { id: id + '-h' }, title), ...content);
}

function renderKinds(st) {
  const s = t();
  const rows = KINDS.map((k) => ({ key: k, label: s.kind_name[k], value: st.exposures[k] }));
  return section('kinds', s.kinds_title,
    barChart({ id: 'chart-kinds', title: s.kinds_title, desc: s.kinds_desc(rows), rows, rtl: s.dir === 'rtl', format: groupDigits }),
    table('table-kinds', 'kinds-h', [s.col.kind, '#' + s.col.entries],
      rows.map((r) => row({ 'data-kind': r.key }, r.label, groupDigits(r.value)))));
}

function renderPrices(st) {
  const s = t();
  const label = (c) => s.category[c] || s.category.other;
  const rows = st.byCategory.filter((c) => c.price).map((c) => ({ key: c.category, label: label(c.category), ...c.price }));
  if (!rows.length) return section('prices', s.prices_title, h('p', { class: 'note' }, s.prices_none));
  const price = (n) => s.price(Math.round(n));
  return section('prices', s.prices_title,
    rangeChart({
      id: 'chart-prices', title: s.prices_title, desc: s.prices_desc(rows), rows, rtl: s.dir === 'rtl',
      format: (n) => groupDigits(n), axisLabel: s.axis_rupees,
    }),
    table('table-prices', 'prices-h', [s.col.data, '#' + s.col.min, '#' + s.col.median, '#' + s.col.max],
      rows.map((r) => row({ 'data-category': r.key }, r.label, price(r.min), price(r.median), price(r.max)))));
}

function renderCategories(st) {
  const s = t();
  return section('categories', s.categories_title,
    table('table-categories', 'categories-h', [s.col.data, '#' + s.col.listings, '#' + s.col.entries],
      st.byCategory.map((c) => row({ 'data-category': c.category }, s.category[c.category] || s.category.other,
        String(c.listings), groupDigits(c.exposures.total)))));
}

function renderMonths(st) {
  const s = t();
  const series = monthSeries(st.byMonth);
  if (!series.length) return null;
  const label = (m) => formatMonth(state.lang, m);
  const given = series.filter((m) => m.count > 0);
  return section('months', s.months_title,
    columnChart({
      id: 'chart-months', title: s.months_title, desc: s.months_desc(given.map((m) => ({ label: label(m.month), value: m.count }))),
      series, rtl: s.dir === 'rtl', monthLabel: label, yearLabel: (m) => m.slice(0, 4),
    }),
    table('table-months', 'months-h', [s.col.month, '#' + s.col.listings],
      given.map((m) => row({ 'data-month': m.month }, label(m.month), String(m.count)))));
}

function renderListings(st) {
  const s = t();
  const flags = (l) => ['verified', 'fabricated', 'sensitive'].filter((f) => l[f])
    .map((f) => h('span', { class: 'flag flag-' + f, 'data-flag': f }, s.flag[f]));
  return section('listings', s.listings_title,
    table('table-listings', 'listings-h', [s.col.listing, s.col.first_seen, '#' + s.col.entries, s.col.flags],
      st.byListing.map((l) => h('tr', { 'data-listing-id': l.id, class: l.fabricated ? 'fabricated' : null },
        h('th', { scope: 'row', dir: 'auto' }, l.title), // the operator's words, in their own direction
        h('td', null, formatDate(state.lang, l.firstSeen)),
        h('td', { class: 'num' }, groupDigits(l.exposures.total)),
        h('td', null, flags(l))))));
}

function render() {
  const s = t();
  applyLanguage(s, state.lang);

  const status = $('stats-status');
  const out = $('stats');
  out.textContent = '';
  const st = state.stats;
  const e = state.error;
  if (e) {
    const r = e.retryAt && formatRetry(state.lang, e.retryAt);
    status.textContent = '';
    out.append(h('p', { id: 'stats-error', class: 'lookup-error', 'data-code': e.code },
      e.code === CODE_RATE_LIMITED ? s.stats_rate_limited(r && r.at, r && r.rel) : s.stats_failed));
    return;
  }
  status.textContent = st ? '' : s.stats_loading;
  if (!st) return;
  out.append(h('p', { id: 'stats-summary', class: 'summary' }, s.stats_summary(st.exposures.total, st.listings.counted)));
  if (st.listings.fabricated) {
    out.append(h('p', { id: 'stats-fabricated', class: 'note' }, s.stats_fabricated(st.listings.fabricated, st.fabricatedExposures.total)));
  }
  if (!st.listings.total) {
    out.append(h('p', { id: 'stats-empty', class: 'note' }, s.stats_empty));
    return;
  }
  out.append(...[renderKinds(st), renderPrices(st), renderCategories(st), renderMonths(st), renderListings(st)].filter(Boolean));
}

function onToggle() {
  state.lang = state.lang === 'en' ? 'ur' : 'en';
  try {
    localStorage.setItem(LANG_KEY, state.lang);
  } catch {
    // not remembered; the page still switches
  }
  render();
}

$('lang-toggle').addEventListener('click', onToggle);
render();
load().then((r) => {
  state.stats = r.stats || null;
  state.error = r.error || null;
  render();
});
