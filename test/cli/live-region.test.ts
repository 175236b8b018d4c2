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
