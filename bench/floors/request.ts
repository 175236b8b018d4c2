/**
 * Floor entry (bench/floors.ts): only the one request of `rollout rollback --emergency`, a PUT of
 * 0 % through rollout's HTTP client (src/net/http.ts, over undici) to the URL `rollout floor <url>`
 * names; no plan, lock or state.
 */
import { httpRequest } from '../../src/net/http.js';

export async function main(argv: string[]): Promise<number> {
  const response = await httpRequest({ url: argv[1]!, method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"percentage":0}', timeoutMs: 10_000 });
  return response.status >= 200 && response.status < 300 ? 0 : 1;
}
