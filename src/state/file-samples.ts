/**
 * The file store's poll log: `<dir>/<name>.samples.jsonl`, one sample per line (state/samples.ts).
 *
 * Samples only draw charts, so they are written more cheaply than history: appended without an
 * fsync, and a line torn by a crash is skipped on read (it costs one poll, never an error). Once
 * COMPACT_AT lines are stored the file is thinned and replaced whole (temp file and rename), under
 * the same short lock as saves, so an append never lands in a file that is being replaced.
 */
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { processSecrets } from '../plan/secrets.js';
import { parseStoredSample } from './parse-stored.js';
import { COMPACT_AT, compactSamples, type MetricSample } from './samples.js';

/** What the poll log borrows from its file store. */
export interface FileSampleLogOptions {
  dir: string;
  plan: string;
  /** Runs `write` under the store's save lock (creating the directory). */
  exclusive<T>(write: () => Promise<T>): Promise<T>;
  /** Replaces a file whole (temp file, rename). */
  replace(path: string, data: string): Promise<void>;
}

/** The poll log of one rollout in the file store. */
export function createFileSampleLog(options: FileSampleLogOptions): { appendSamples(samples: MetricSample[]): Promise<void>; samples(): Promise<MetricSample[]> } {
  const path = join(options.dir, `${options.plan}.samples.jsonl`);
  /** Lines stored, as this process last knew it; read from the file on first use. */
  let stored: number | undefined;

  async function readLines(): Promise<string[]> {
    try {
      return (await readFile(path, 'utf8')).split('\n').filter((line) => line.trim() !== '');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  async function samples(): Promise<MetricSample[]> {
    const samples: MetricSample[] = [];
    for (const line of await readLines()) {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        continue;
      }
      const sample = await parseStoredSample(value);
      if (sample) samples.push(sample);
    }
    return samples;
  }

  const toLines = (list: MetricSample[]): string => list.map((s) => `${JSON.stringify(s)}\n`).join('');

  async function appendSamples(list: MetricSample[]): Promise<void> {
    if (list.length === 0) return;
    await options.exclusive(async () => {
      stored ??= (await readLines()).length;
      await appendFile(path, toLines(processSecrets.redactDeep(list)));
      stored += list.length;
      if (stored < COMPACT_AT) return;
      const compacted = compactSamples(await samples());
      await options.replace(path, toLines(compacted));
      stored = compacted.length;
    });
  }

  return { appendSamples, samples };
}
