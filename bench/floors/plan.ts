/**
 * Floor entry (bench/floors.ts): only the YAML parse every plan-reading command starts with
 * (src/plan/load-plan.ts), of the plan `rollout floor <plan>` names; no checks, no output.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';

export async function main(argv: string[]): Promise<number> {
  const doc = parseDocument(readFileSync(argv[1]!, 'utf8'));
  const data: unknown = doc.toJS();
  return doc.errors.length === 0 && data !== null && typeof data === 'object' ? 0 : 1;
}
