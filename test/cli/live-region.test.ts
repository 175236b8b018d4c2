/** The live region under the live views: lines cut to the width with colours intact, and warnings printed above the frame. */
import { Chalk } from 'chalk';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createLiveRegion, fitToWidth } from '../../src/cli/live-region.js';
import { createOutput, isCompact } from '../../src/cli/output.js';

describe('fitToWidth', () => {
  it('cuts each line to the width by what shows, keeps colours and closes them', () => {
    const red = new Chalk({ level: 1 }).red;
    const block = `${red('x'.repeat(50))}\nshort\n${'é'.repeat(12)}`;
    const lines = fitToWidth(block, 10).split('\n');
    expect(lines.map((l) => stripVTControlCharacters(l))).toEqual([`${'x'.repeat(9)}…`, 'short', `${'é'.repeat(9)}…`]);
    expect(lines[0]).toMatch(/^\x1b\[31m/);
    expect(lines[0]).toMatch(/\x1b\[39m$/);
  });

  it('wraps the next: line and any line naming a command instead of cutting it, keeping each command on one row', () => {
    const yellow = new Chalk({ level: 1 }).yellow;
    const next = `next: paused by pat: ${'waiting for the database team '.repeat(3)}; \`rollout resume checkout-api.yaml\` lifts it`;
    const hold = yellow('HOLD → hold: warnings; `rollout status` shows them');
    const lines = fitToWidth(`${'x'.repeat(50)}\n${next}\n${hold}`, 45).split('\n');
    const rows = lines.map((l) => stripVTControlCharacters(l));
    for (const row of rows) expect(row.length, row).toBeLessThanOrEqual(45);
    expect(rows[0]).toBe(`${'x'.repeat(44)}…`);
    // At 45 columns a plain word wrap would break the command after `rollout resume`.
    // Nothing lost, and each command whole on one row.
    expect(rows.slice(1).join(' ').replace(/ +/g, ' ')).toBe(`${next} ${stripVTControlCharacters(hold)}`.replace(/ +/g, ' '));
    expect(rows.some((r) => r.includes('`rollout resume checkout-api.yaml`'))).toBe(true);
    expect(rows.some((r) => r.includes('`rollout status`'))).toBe(true);
    // A wrapped line's colour is opened and closed on each of its rows.
    expect(lines.filter((l) => l.startsWith('\x1b[33m') && l.endsWith('\x1b[39m')).length).toBeGreaterThanOrEqual(2);
  });

  it('is compact below 100 columns, never off a terminal', () => {
    expect([isCompact(60), isCompact(99), isCompact(100), isCompact(undefined)]).toEqual([true, true, false, false]);
  });
});

describe('a warning while the frame is on screen', () => {
  it('takes the frame off, prints the warning, and draws the frame again below it', () => {
    const written: string[] = [];
    const out = createOutput({ isTTY: true, terminalSize: () => ({ columns: 80, rows: 24 }), write: (t) => written.push(`out:${t}`), writeError: (t) => written.push(`err:${t}`) });
    out.error('before any frame');
    const region = createLiveRegion(out);
    region.render('line one\nline two');
    written.length = 0;
    out.error('warning: the poll log could not be written');
    // Two rows of frame and the cursor's row erased, the warning, the same frame again.
    expect(written).toEqual(['out:\x1b[2K\x1b[1A\x1b[2K\x1b[1A\x1b[2K\x1b[G', 'err:warning: the poll log could not be written\n', 'out:line one\nline two\n']);
    region.done();
    written.length = 0;
    out.error('after');
    expect(written).toEqual(['err:after\n']);
  });
});
