// The page: reads the one box (its kind chosen above it) or, when asked
// for deliberately, a box per kind in "check several together"; validates
// them as the server would, runs the lookup and shows the outcome in the
// chosen language. Checking one value at a time is the easy path: values
// checked together can be linked by the server (see the linkage note).
// Values typed live only in the input elements and in this module's
// variables for the length of a check: never in a URL, storage or the
// console.

import { parse, KINDS } from './identifier.js';
import { KIND_TABLE } from './kinds.gen.js';
import { Client, LookupError } from './lookup.js';
import { STRINGS, pickLang, formatDate, formatRetry } from './i18n.js';
import { adviceFor } from './advice.js';
import { h, applyLanguage } from './dom.js';
import { CODE_RATE_LIMITED } from './wire.gen.js';

const LANG_KEY = 'khabardar.lang'; // the one thing the page stores

const $ = (id) => document.getElementById(id);

// buildKinds makes, from the kind table, the kind choice above the one box
// and a box per kind in "check several together": a new kind needs its
// strings in i18n.js, not markup.
function buildKinds() {
  const textInput = (id, mode) => h('input', {
    id, type: 'text', inputmode: mode, dir: 'ltr', autocomplete: 'off', autocorrect: 'off',
    autocapitalize: 'off', spellcheck: 'false', 'aria-describedby': `${id}-hint ${id}-error`,
  });
  for (const [i, k] of KIND_TABLE.entries()) {
    const radio = h('input', { id: 'kind-' + k.name, type: 'radio', name: 'kind', value: k.name });
    radio.checked = i === 0;
    $('kind-options').append(h('label', { class: i === 0 ? 'kind chosen' : 'kind' }, radio, h('span', { 'data-i18n': 'choose_' + k.name })));
    $('several-fields').append(h('div', { class: 'field' },
      h('label', { for: k.name, 'data-i18n': 'label_' + k.name }),
      h('p', { id: k.name + '-hint', class: 'hint', 'data-i18n': 'hint_' + k.name }),
      textInput(k.name, k.inputMode),
      h('p', { id: k.name + '-error', class: 'field-error', hidden: '' })));
  }
}
buildKinds();

const inputs = Object.fromEntries(KINDS.map((k) => [k, $(k)])); // "check several together"
const inputMode = Object.fromEntries(KIND_TABLE.map((k) => [k.name, k.inputMode]));
const client = new Client(new URL('./', document.baseURI).href);

// FIELDS are the text boxes: the one box ("value") and one per kind in
// "check several together", named by kind.
const FIELDS = ['value', ...KINDS];

const state = {
  lang: pickLang(readSaved(), navigator.languages || [navigator.language]),
  kind: KINDS[0], // the kind chosen for the one box
  errors: {}, // field → {kind, reason, looksLike}
  formError: null, // {form: 'one' or 'several', key of a STRINGS message, n for fix_errors}
  busy: false,
  outcome: null, // {results} or {error: LookupError}
  catalogue: null, // {listings, identifiers, newest_added}, fetched as the page opens
  alert: { step: 'number' }, // the alert sign-up: number, code or done; busy, error
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
  renderKind(); // before applyLanguage, which fills the label and hint it names
  applyLanguage(s, state.lang);
  renderErrors();
  renderKey();
  renderCatalogue();
  renderOutcome();
  renderAlerts();
}

// renderAlerts offers alerts after a check that told something, when the
// server sends SMS: a number, a code sent to it, then the watches (the
// VOPRF outputs of the check, in memory only).
function renderAlerts() {
  const s = t();
  const o = state.outcome;
  const cat = o && o.results && o.results.length ? o.results[0].catalogue : null;
  const offer = !!(client.cfg && client.cfg.alerts && o && o.results && !(cat && cat.listings === 0));
  $('alerts').hidden = !offer;
  if (!offer) return;
  const a = state.alert;
  $('alert-number-form').hidden = a.step === 'done';
  $('alert-code-form').hidden = a.step !== 'code';
  for (const id of ['alert-send', 'alert-confirm']) {
    if (a.busy) $(id).setAttribute('aria-disabled', 'true');
    else $(id).removeAttribute('aria-disabled');
  }
  const el = $('alert-status');
  el.dataset.state = a.error ? 'error' : a.step;
  if (a.error) el.textContent = alertErrorText(a.error);
  else if (a.step === 'code') el.textContent = s.alert_code_sent;
  else if (a.step === 'done') el.textContent = s.alert_done(a.watching);
  else el.textContent = '';
}

function alertErrorText(e) {
  const m = t().alert_error;
  const msg = m[e.code] || m.server;
  if (e.code !== CODE_RATE_LIMITED) return msg;
  if (!e.retryAt) return msg(null);
  const r = formatRetry(state.lang, e.retryAt);
  return msg(r.at, r.rel);
}

async function onAlertSend(ev) {
  ev.preventDefault();
  if (state.alert.busy) return;
  state.alert = { step: 'number', busy: true };
  render();
  try {
    await client.alertCode($('alert-number').value, state.lang);
    state.alert = { step: 'code' };
    render();
    $('alert-code').focus();
  } catch (e) {
    state.alert = { step: 'number', error: e instanceof LookupError ? e : new LookupError('server') };
    render();
  }
}

async function onAlertConfirm(ev) {
  ev.preventDefault();
  if (state.alert.busy) return;
  const code = $('alert-code').value.trim();
  if (!/^[0-9]{6}$/.test(code)) {
    state.alert = { step: 'code', error: new LookupError('need_code') };
    return render();
  }
  const watches = state.outcome.results.map((r) => r.watch);
  state.alert = { step: 'code', busy: true };
  render();
  try {
    const n = await client.alertSubscribe($('alert-number').value, code, state.lang, watches);
    state.alert = { step: 'done', watching: n };
    $('alert-code').value = '';
  } catch (e) {
    const err = e instanceof LookupError ? e : new LookupError('server');
    state.alert = { step: err.code === 'code_gone' ? 'number' : 'code', error: err };
  }
  render();
}

// renderCatalogue warns, before anyone types, that a server with no
// listings can tell nothing.
function renderCatalogue() {
  const s = t();
  const el = $('no-listings-notice');
  const empty = !!state.catalogue && state.catalogue.listings === 0;
  el.hidden = !empty;
  el.textContent = '';
  if (empty) el.append(h('strong', null, s.no_listings_title), ' ', s.no_listings);
}

// renderKind shows the chosen kind: its option marked, the one box's label,
// hint and keyboard.
function renderKind() {
  for (const kind of KINDS) {
    const radio = $('kind-' + kind);
    radio.checked = kind === state.kind;
    radio.parentElement.classList.toggle('chosen', radio.checked);
  }
  $('value-label').dataset.i18n = 'label_' + state.kind;
  $('value-hint').dataset.i18n = 'hint_' + state.kind;
  $('value').setAttribute('inputmode', inputMode[state.kind]);
}

function renderErrors() {
  const s = t();
  for (const field of FIELDS) {
    const el = $(field + '-error');
    const e = state.errors[field];
    if (e) $(field).setAttribute('aria-invalid', 'true');
    else $(field).removeAttribute('aria-invalid');
    el.hidden = !e;
    if (!e) {
      el.textContent = '';
      el.removeAttribute('data-reason');
      continue;
    }
    el.dataset.reason = e.reason;
    const msg = s.reason[e.reason];
    // In the one box a value of another kind calls for another choice of
    // kind; in the boxes of "check several", for another box.
    const hint = !e.looksLike ? '' : ' ' + (field === 'value' ? s.looks_like_kind : s.looks_like)[e.looksLike];
    el.textContent = (typeof msg === 'object' ? msg[e.kind] : msg) + hint;
  }
  const f = state.formError;
  for (const [form, id] of [['one', 'form-error'], ['several', 'several-error']]) {
    const el = $(id);
    const mine = f && f.form === form;
    el.hidden = !mine;
    el.textContent = !mine ? '' : f.key === 'fix_errors' ? s.fix_errors(f.n) : f.key === 'need_value' ? s.need_value[state.kind] : s[f.key];
  }
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
  const cat = o.results.length ? o.results[0].catalogue : null;
  if (cat && cat.listings === 0) {
    // Nothing could have been found: no verdict at all, not even "not found".
    out.append(h('div', { id: 'no-listings', class: 'no-listings', role: 'alert' },
      h('h2', null, s.no_listings_title), h('p', null, s.no_listings)));
    return;
  }
  const found = o.results.filter((r) => r.listings.length);
  out.append(h('p', { id: 'summary', class: 'summary' }, s.checked(found.length, o.results.length)), ...o.results.map(renderResult));
  if (found.length) out.append(renderAdvice(found));
}

function errorText(e) {
  const msg = t().error[e.code] || t().error.server;
  if (e.code === 'bucket_bits') return msg(e.bits, e.max);
  if (e.code !== CODE_RATE_LIMITED) return msg;
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
  else {
    const c = r.catalogue;
    if (c) box.append(h('p', { class: 'checked-against' }, s.not_found_in(c.listings, formatDate(state.lang, c.newest_added))));
    box.append(h('p', null, s.not_found_text));
  }
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

// looksLike names the kind an entry rejected as kind would be valid as, so
// that a number of another kind gets a hint.
function looksLike(kind, raw) {
  const r = parse('', raw);
  return r.canonical && r.kind !== kind ? r.kind : null;
}

// entry parses one box's value as kind, noting why it is not one.
function entry(field, kind) {
  const raw = $(field).value;
  const r = parse(kind, raw);
  if (!r.canonical) state.errors[field] = { kind, reason: r.reason, looksLike: looksLike(kind, raw) };
  return r;
}

// refuse shows a form's error and puts focus where it is to be corrected.
function refuse(form, error, field) {
  state.formError = { form, ...error };
  state.outcome = null;
  render();
  $(field).focus();
}

// onCheck checks the one box's value: the easy path.
async function onCheck(ev) {
  ev.preventDefault();
  if (state.busy) return;
  state.errors = {};
  state.formError = null;
  if ($('value').value.trim() === '') return refuse('one', { key: 'need_value' }, 'value');
  const r = entry('value', state.kind);
  if (!r.canonical) return refuse('one', { key: 'fix_errors', n: 1 }, 'value');
  await lookup([r], 'check');
}

// onCheckSeveral checks the boxes of every kind together: chosen deliberately,
// under the warning that the values are linked.
async function onCheckSeveral(ev) {
  ev.preventDefault();
  if (state.busy) return;
  state.errors = {};
  state.formError = null;
  const ids = [];
  for (const kind of KINDS) {
    if (inputs[kind].value.trim() === '') continue;
    const r = entry(kind, kind);
    if (r.canonical) ids.push(r);
  }
  const invalid = KINDS.filter((k) => state.errors[k]);
  if (invalid.length) return refuse('several', { key: 'fix_errors', n: invalid.length }, invalid[0]);
  if (!ids.length) return refuse('several', { key: 'need_one' }, KINDS[0]);
  await lookup(ids, 'check-several');
}

async function lookup(ids, button) {
  // Busy is shown with aria-disabled, not disabled: disabling the focused
  // button would drop keyboard focus to the top of the page.
  state.busy = true;
  state.outcome = null;
  $(button).setAttribute('aria-disabled', 'true');
  render();
  try {
    state.outcome = { results: await client.check(ids) };
    state.alert = { step: 'number' }; // a new check: its own identifiers to watch
    state.catalogue = state.outcome.results[0].catalogue || state.catalogue;
  } catch (e) {
    state.outcome = { error: e instanceof LookupError ? e : new LookupError('server') };
  }
  state.busy = false;
  state.keyFailed = !client.cfg;
  $(button).removeAttribute('aria-disabled');
  render();
}

function onKind(ev) {
  state.kind = ev.target.value;
  delete state.errors.value; // said of the kind chosen before
  if (state.formError && state.formError.form === 'one') state.formError = null;
  render();
}

function onClear() {
  $('value').value = '';
  state.errors = {};
  state.formError = null;
  state.outcome = null;
  render();
  $('value').focus();
}

function onClearSeveral() {
  for (const k of KINDS) inputs[k].value = '';
  state.errors = {};
  state.formError = null;
  state.outcome = null;
  render();
  inputs[KINDS[0]].focus();
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

$('check-form').addEventListener('submit', onCheck);
$('several-form').addEventListener('submit', onCheckSeveral);
for (const kind of KINDS) $('kind-' + kind).addEventListener('change', onKind);
$('clear').addEventListener('click', onClear);
$('clear-several').addEventListener('click', onClearSeveral);
$('lang-toggle').addEventListener('click', onToggle);
$('alert-number-form').addEventListener('submit', onAlertSend);
$('alert-code-form').addEventListener('submit', onAlertConfirm);
render();
// The key is shown before any check: fetching it reveals nothing. A server
// asking for too precise a bucket number is refused at once, before anyone
// types.
// Then the catalogue's size, which reveals nothing either: with no listings
// loaded the page says at once that a check cannot tell anything.
client.config().then(async () => {
  try {
    const c = await client.catalogue();
    if (!state.busy) state.catalogue = c;
  } catch {
    // said by the check, if one is made
  }
}, (e) => {
  state.keyFailed = true;
  if (e instanceof LookupError && e.code === 'bucket_bits' && !state.busy && !state.outcome) state.outcome = { error: e };
}).then(render);
