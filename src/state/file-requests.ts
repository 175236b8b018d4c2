/**
 * Requests to a running `run`, in the file store: `<dir>/<name>.requests/`, one file per request
 * (`<id>.request.json`), written atomically. Taking one renames it to `<id>.taken.json` — the
 * rename succeeds for one taker only — and the run's answer is written as `<id>.answer.json`,
 * which the requester removes as it reads it.
 */
import { mkdir, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { processSecrets } from '../plan/secrets.js';
import { isErrno, readRegularFile, writeAtomic } from './file-io.js';
import { parseRequestAnswer, parseRunRequest } from './parse-stored.js';
import { requestIdPattern, type RequestAnswer, type RunRequest, type StateStore } from './types.js';

/** The request methods of the file store for rollout `plan` in `dir`. */
export function createFileRequests(dir: string, plan: string): Pick<StateStore, 'postRequest' | 'takeRequests' | 'answer' | 'takeAnswer' | 'withdrawRequest'> {
  const requests = join(dir, `${plan}.requests`);
  const path = (id: string, kind: 'request' | 'taken' | 'answer') => {
    // Ids name files: anything else than what newRequest makes is refused, never joined into a path.
    if (!requestIdPattern.test(id)) throw new Error(`not a request id: ${JSON.stringify(id)}`);
    return join(requests, `${id}.${kind}.json`);
  };
  const readJson = async (file: string): Promise<unknown> => {
    const read = await readRegularFile(file);
    if (read === undefined || read === 'notRegular') return undefined;
    try {
      return JSON.parse(read.raw) as unknown;
    } catch {
      return undefined;
    }
  };
  const removeQuietly = (file: string) => unlink(file).catch(() => undefined);

  return {
    async postRequest(request: RunRequest) {
      await mkdir(requests, { recursive: true });
      await writeAtomic(path(request.id, 'request'), JSON.stringify(processSecrets.redactDeep(request)));
    },

    async takeRequests() {
      let files: string[];
      try {
        files = (await readdir(requests)).filter((f) => f.endsWith('.request.json')).sort();
      } catch (err) {
        if (isErrno(err, 'ENOENT')) return [];
        throw err;
      }
      const taken: RunRequest[] = [];
      for (const file of files) {
        const id = file.slice(0, -'.request.json'.length);
        if (!requestIdPattern.test(id)) continue;
        try {
          await rename(join(requests, file), path(id, 'taken'));
        } catch (err) {
          // Withdrawn, or taken by someone else, meanwhile.
          if (isErrno(err, 'ENOENT')) continue;
          throw err;
        }
        const request = await parseRunRequest(await readJson(path(id, 'taken')));
        if (request) taken.push(request);
        else await removeQuietly(path(id, 'taken'));
      }
      return taken;
    },

    async answer(answer: RequestAnswer) {
      await writeAtomic(path(answer.id, 'answer'), JSON.stringify(processSecrets.redactDeep(answer)));
      await removeQuietly(path(answer.id, 'taken'));
    },

    async takeAnswer(id: string) {
      const answer = await parseRequestAnswer(await readJson(path(id, 'answer')));
      if (answer) await removeQuietly(path(id, 'answer'));
      return answer;
    },

    async withdrawRequest(id: string) {
      try {
        await unlink(path(id, 'request'));
        return true;
      } catch (err) {
        if (isErrno(err, 'ENOENT')) return false;
        throw err;
      }
    },
  };
}
