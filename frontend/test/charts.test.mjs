// The statistics page's chart geometry, without a browser (the charts
// themselves are drawn and checked in site.test.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WIDTH, barWidths, logScale, mirror, monthSeries } from '../src/charts.js';
import { formatMonth } from '../src/i18n.js';

test('bars: the largest fills the span, a small value stays visible, none is 0', () => {
  const cases = [
    { name: 'proportional', values: [2, 3, 1], span: 300, want: [200, 300, 100] },
    { name: 'tiny beside huge', values: [1, 1_000_000], span: 100, want: [1, 100] },
    { name: 'zero', values: [0, 5], span: 100, want: [0, 100] },
    { name: 'all zero', values: [0, 0, 0], span: 100, want: [0, 0, 0] },
    { name: 'empty', values: [], span: 100, want: [] },
  ];
  for (const c of cases) assert.deepEqual(barWidths(c.values, c.span), c.want, c.name);
});

test('mirror: right to left flips a box within the chart', () => {
  assert.equal(mirror(false)(10, 50), 10);
  assert.equal(mirror(true)(10, 50), WIDTH - 60);
  assert.equal(mirror(true)(0), WIDTH);
});

test('prices: a log scale over whole powers of ten', () => {
  const cases = [
    { name: 'the example listing', min: 500, max: 25000, ticks: [100, 1000, 10000, 100000] },
    { name: 'one price', min: 500, max: 500, ticks: [100, 1000] },
    { name: 'a power of ten', min: 1000, max: 1000, ticks: [1000, 10000] },
    { name: 'one rupee', min: 1, max: 1, ticks: [1, 10] },
  ];
  for (const c of cases) {
    const s = logScale(c.min, c.max);
    assert.deepEqual(s.ticks, c.ticks, c.name);
    assert.equal(s.at(c.ticks[0]), 0, c.name);
    assert.equal(s.at(c.ticks[c.ticks.length - 1]), 1, c.name);
    assert.ok(s.at(c.min) >= 0 && s.at(c.max) <= 1 && s.at(c.min) <= s.at(c.max), c.name);
  }
  assert.ok(Math.abs(logScale(100, 10000).at(1000) - 0.5) < 1e-9, 'ten times is one step');
});

test('months: first to last, the months between at 0', () => {
  const cases = [
    { name: 'none', by: {}, want: [] },
    { name: 'one', by: { '2024-10': 1 }, want: [['2024-10', 1]] },
    { name: 'across a year, unordered', by: { '2025-01': 2, '2024-11': 1 }, want: [['2024-11', 1], ['2024-12', 0], ['2025-01', 2]] },
    { name: 'not months are ignored', by: { '2024-13': 5, nonsense: 1, '2024-02': 'x', '2024-03': 3 }, want: [['2024-02', 0], ['2024-03', 3]] },
  ];
  for (const c of cases) assert.deepEqual(monthSeries(c.by).map((m) => [m.month, m.count]), c.want, c.name);
  const wide = monthSeries({ '1990-01': 1, '2025-06': 2 });
  assert.deepEqual(wide.map((m) => m.month), ['1990-01', '2025-06'], 'a span of centuries is not filled');
  assert.equal(formatMonth('en', '2024-10'), 'October 2024');
  assert.equal(formatMonth('ur', '2024-10'), 'اکتوبر 2024');
});
