/**
 * A stack trace as `ROLLOUT_DEBUG=1` prints it: frames in the bundle (dist/*.cjs, one minified
 * line each) named by the source file, line and column they came from, through the bundle's source
 * map. Node maps only the modules its loaders load (with --enable-source-maps), and bin/rollout.js
 * runs the bundle through node:vm.
 */
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, resolve } from 'node:path';

const BUNDLE_FRAME = /(\/[^\s()]+\.cjs):(\d+):(\d+)/g;

/** `stack` with each bundle position replaced by its source position (kept when there is none). */
export function sourceMappedStack(stack: string): string {
  const maps = new Map<string, SourceMap | undefined>();
  const mapOf = (bundle: string) => {
    if (!maps.has(bundle)) {
      try {
        maps.set(bundle, new SourceMap(JSON.parse(readFileSync(`${bundle}.map`, 'utf8'))));
      } catch {
        maps.set(bundle, undefined); // no map shipped: the bundle's position stays
      }
    }
    return maps.get(bundle);
  };
  return stack.replace(BUNDLE_FRAME, (frame, bundle: string, line: string, column: string) => {
    const entry = mapOf(bundle)?.findEntry(Number(line) - 1, Number(column) - 1);
    if (!entry || !('originalSource' in entry)) return frame;
    return `${resolve(dirname(bundle), entry.originalSource)}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  });
}
