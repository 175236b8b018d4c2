import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/plan/duration.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['48h', 172_800_000],
    ['7d', 604_800_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    [' 2m ', 120_000],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '30', 's', '5 minutes', '-5m', '5x', '1h-30m', 'm5'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it.each([
    [450, '450ms'],
    [45_000, '45s'],
    [720_000, '12m'],
    [90_000, '1m 30s'],
    [5_400_000, '1h 30m'],
    [187_200_000, '2d 4h'],
    [-5, '0ms'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
