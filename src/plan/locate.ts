/** Maps a path in the plan's data (["metrics", 0, "warning"]) to a line and column in its YAML. */
import { isMap, isScalar, isSeq, LineCounter, type Document, type Node } from 'yaml';

export type DataPath = readonly (string | number)[];

/** A rule broken at `path`. */
export interface PathProblem {
  path: DataPath;
  message: string;
  hint?: string;
  /** Point at the key rather than its value. */
  atKey?: boolean;
  /** Worth a word, but the plan is still valid (`validate` prints it and exits 0). */
  warning?: boolean;
}

/**
 * The 1-based line:col of the value at `path`, or of the key itself when `atKey` is set (unknown
 * keys). Where the path goes further than the document (a missing key), the nearest existing
 * ancestor is named, which is where the key has to be added.
 */
export function locate(
  doc: Document,
  lines: LineCounter,
  path: DataPath,
  atKey = false,
): { line: number; col: number } {
  let node: Node | null | undefined = doc.contents as Node | null;
  let offset = node?.range?.[0] ?? 0;
  for (let i = 0; i < path.length && node; i++) {
    const segment = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      const keyNode = pair.key as Node;
      if (last && atKey) {
        offset = keyNode.range?.[0] ?? offset;
        break;
      }
      node = pair.value as Node | null;
      offset = node?.range?.[0] ?? keyNode.range?.[0] ?? offset;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as Node | undefined;
      if (!item) break;
      node = item;
      offset = item.range?.[0] ?? offset;
    } else {
      break;
    }
  }
  const pos = lines.linePos(offset);
  return { line: pos.line, col: pos.col };
}
