// h builds an element; string children become text, never markup, and
// null children and attributes are left out. Both pages build with it.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null) el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c !== null) el.append(c);
  }
  return el;
}

// applyLanguage sets the page's language, direction, every [data-i18n]
// text and the language toggle from strings s of language lang. Both
// pages call it on every render.
export function applyLanguage(s, lang) {
  const root = document.documentElement;
  root.lang = lang;
  root.dir = s.dir;
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = s[el.dataset.i18n];
  const toggle = document.getElementById('lang-toggle');
  toggle.textContent = s.other_lang;
  toggle.lang = lang === 'en' ? 'ur' : 'en';
  toggle.setAttribute('aria-label', s.other_lang_label);
}
