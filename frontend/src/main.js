// The page: reads the three boxes, validates them as the server would,
// runs the lookup and shows the outcome in the chosen language. Values
// typed live only in the input elements and in this module's variables for
// the length of a check: never in a URL, storage or the console.

import { parse, KINDS } from './identifier.js';
import { Client, LookupError } from './lookup.js';
import { STRINGS, pickLang, formatDate, formatRetry } from './i18n.js';
import { adviceFor } from './advice.js';
import { h, applyLanguage } from './dom.js';

const LANG_KEY = 'khabardar.lang'; // the one thing the page stores

const $ = (id) => document.getElementById(id);
const form = $('check-form');
const inputs = { cnic: $('cnic'), phone: $('phone'), imei: $('imei') };
const client = new Client(new URL('./', document.baseURI).href);

const state = {
  lang: pickLang(readSaved(), navigator.languages || [navigator.language]),
  errors: {}, // kind → {reason, looksLike}
  formError: null, // {key} of a STRINGS message, and n for fix_errors
  busy: false,
  outcome: null, // {results} or {error: LookupError}
  keyFailed: false,
};

function readSaved() {
  try {
    return localStorage.getItem(LANG_KEY);
  } catch {
    return null; // storage disabled: use the browser's languages
  }
}

const t = () => STRINGS[state.lang];

function render() {
  const s = t();
  applyLanguage(s, state.lang);
  renderErrors();
  renderKey();
  renderOutcome();
}

function renderErrors() {
  const s = t();
  for (const kind of KINDS) {
    const el = $(kind + '-error');
    const e = state.errors[kind];
    if (e) inputs[kind].setAttribute('aria-invalid', 'true');
    else inputs[kind].removeAttribute('aria-invalid');
    el.hidden = !e;
    if (!e) {
      el.textContent = '';
      el.removeAttribute('data-reason');
      continue;
    }
    el.dataset.reason = e.reason;
    const msg = s.reason[e.reason];
    el.textContent = (typeof msg === 'object' ? msg[kind] : msg) + (e.looksLike ? ' ' + s.looks_like[e.looksLike] : '');
  }
  const fe = $('form-error');
  const f = state.formError;
  fe.hidden = !f;
  fe.textContent = !f ? '' : f.key === 'fix_errors' ? s.fix_errors(f.n) : s[f.key];
}

function renderKey() {
  const s = t();
  const cfg = client.cfg;
  $('key-id').textContent = cfg ? cfg.keyId : state.keyFailed ? '—' : s.key_loading;
  $('key-fingerprint').textContent = cfg ? cfg.fingerprint : state.keyFailed ? s.key_failed : s.key_loading;
}

function renderOutcome() {
  const s = t();
  const status = $('status');
  const out = $('results');
  out.textContent = '';
  out.setAttribute('aria-busy', String(state.busy));
  if (state.busy) {
    status.textContent = s.checking;
    return;
  }
  status.textContent = '';
  const o = state.outcome;
  if (!o) return;
  if (o.error) {
    out.append(h('div', { id: 'lookup-error', class: 'lookup-error', 'data-code': o.error.code }, h('p', null, errorText(o.error))));
    return;
  }
  const found = o.results.filter((r) => r.listings.length);
  out.append(h('p', { id: 'summary', class: 'summary' }, s.checked(found.length, o.results.length)), ...o.results.map(renderResult));
  if (found.length) out.append(renderAdvice(found));
}

function errorText(e) {
  const msg = t().error[e.code] || t().error.server;
  if (e.code !== 'rate_limited') return msg;
  if (!e.retryAt) return msg(null);
  const r = formatRetry(state.lang, e.retryAt);
  return msg(r.at, r.rel);
}

// renderResult shows one identifier's outcome. Listings shown to be
// fabricated are named apart, after the verdict, and never make it "found".
function renderResult(r) {
  const s = t();
  const found = r.listings.length > 0;
  const fake = r.fabricated || [];
  const box = h('article', { class: 'result ' + (found ? 'found' : 'not-found'), 'data-kind': r.kind, 'data-found': String(found) },
    h('h2', null, s.kind_title[r.kind]),
    h('p', { class: 'verdict' }, found ? s.found(r.listings.length) : fake.length ? s.not_found_genuine : s.not_found));
  if (found) box.append(...r.listings.map(renderListing));
  else box.append(h('p', null, s.not_found_text));
  if (fake.length) {
    box.append(h('section', { class: 'fabricated-listings', 'data-fabricated': String(fake.length) },
      h('h3', null, s.fabricated_title(fake.length)), h('p', null, s.fabricated_text), ...fake.map(renderListing)));
  }
  return box;
}

// renderAdvice gives the steps once for everything found, by category.
function renderAdvice(found) {
  const s = t();
  const advice = adviceFor(found);
  const steps = (ids) => h('ul', null, ids.map((id) => h('li', { 'data-step': id }, s.step[id])));
  return h('section', { id: 'advice', class: 'advice' },
    h('h2', null, s.advice_title),
    advice.byCategory.filter((c) => c.steps.length).map((c) => h('div', { 'data-category': c.category },
      h('h3', null, s.category[c.category]), steps(c.steps))),
    h('h3', null, s.advice_always), steps(advice.always));
}

function renderListing(l) {
  const s = t();
  const src = l.source || {};
  const row = (label, value) => [h('dt', null, label), h('dd', null, value)];
  const fake = l.fabricated === true;
  return h('section', { class: 'listing' + (fake ? ' fabricated' : ''), 'data-listing-id': l.id },
    h('h3', { dir: 'auto' }, String(l.title || l.id)), // the operator's words, in their own direction
    fake ? h('p', { class: 'flag-fabricated' }, s.fabricated_badge)
      : l.verified === true ? h('p', { class: 'verified' }, s.verified) : null,
    l.sensitive === true ? h('p', { class: 'flag-sensitive' }, s.sensitive_note) : null,
    h('dl', null,
      row(s.source, s.source_kind[src.kind] || s.source_kind.other),
      row(s.first_seen, formatDate(state.lang, l.first_seen)),
      l.last_seen ? row(s.last_seen, formatDate(state.lang, l.last_seen)) : null,
      row(s.status, s.status_name[l.status] || s.status_name.unknown)),
    h('h4', null, s.offered),
    h('table', { class: 'offered' }, h('tbody', null, (l.categories || []).map((c) => h('tr', { 'data-category': c.category },
      h('th', { scope: 'row' }, s.category[c.category] || s.category.other),
      h('td', { dir: 'auto' }, s.price(Number(c.price_pkr) || 0)))))));
}

// looksLike names the kind an entry rejected in one box would be valid as,
// so that a number typed in the wrong box gets a hint.
function looksLike(kind, raw) {
  const r = parse('', raw);
  return r.canonical && r.kind !== kind ? r.kind : null;
}

async function onSubmit(ev) {
  ev.preventDefault();
  if (state.busy) return;
  state.errors = {};
  state.formError = null;
  const ids = [];
  for (const kind of KINDS) {
    const raw = inputs[kind].value;
    if (raw.trim() === '') continue;
    const r = parse(kind, raw);
    if (r.canonical) ids.push(r);
    else state.errors[kind] = { reason: r.reason, looksLike: looksLike(kind, raw) };
  }
  const invalid = KINDS.filter((k) => state.errors[k]);
  if (invalid.length || !ids.length) {
    state.formError = invalid.length ? { key: 'fix_errors', n: invalid.length } : { key: 'need_one' };
    state.outcome = null;
    render();
    inputs[invalid[0] || 'cnic'].focus();
    return;
  }
  // Busy is shown with aria-disabled, not disabled: disabling the focused
  // button would drop keyboard focus to the top of the page.
  state.busy = true;
  state.outcome = null;
  $('check').setAttribute('aria-disabled', 'true');
  render();
  try {
    state.outcome = { results: await client.check(ids) };
  } catch (e) {
    state.outcome = { error: e instanceof LookupError ? e : new LookupError('server') };
  }
  state.busy = false;
  state.keyFailed = !client.cfg;
  $('check').removeAttribute('aria-disabled');
  render();
}

function onClear() {
  for (const k of KINDS) inputs[k].value = '';
  state.errors = {};
  state.formError = null;
  state.outcome = null;
  render();
  inputs.cnic.focus();
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

form.addEventListener('submit', onSubmit);
$('clear').addEventListener('click', onClear);
$('lang-toggle').addEventListener('click', onToggle);
render();
// The key is shown before any check: fetching it reveals nothing.
client.config().catch(() => {
  state.keyFailed = true;
}).then(renderKey);
