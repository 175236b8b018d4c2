/**
 * The `unleash` target: the `rollout` parameter of a feature's `flexibleRollout` (gradual rollout)
 * strategy in one environment, through the Unleash Admin API:
 *
 * - GET   /api/admin/projects/{project}/features/{feature}  → `environments[]`, each with
 *         `name`, `enabled` and `strategies[]` of `{ id, name, disabled, parameters }`.
 * - PATCH /api/admin/projects/{project}/features/{feature}/environments/{env}/strategies/{id}
 *         with a JSON Patch on `/parameters/rollout`. A PATCH rather than a PUT of the whole
 *         strategy: Unleash's PUT resets segments that the body does not repeat, and a PATCH
 *         cannot clobber a constraint someone edited in the UI a second ago.
 * - POST  /api/admin/projects/{project}/features/{feature}/environments/{env}/off (emergency).
 *
 * Unleash keeps strategy parameters as strings ("25"). Admin API tokens and personal access
 * tokens go in the Authorization header as they are, without "Bearer".
 */
import { TargetError } from '../errors.js';
import type { HttpResponse } from '../net/http.js';
import { processSecrets } from '../plan/secrets.js';
import { checkReadBack, parsePercent } from './percent.js';
import { isSuccess, parseJsonBody, sendWithRetries, statusError, type RetryOptions } from '../net/retry.js';
import type { Target } from './target.js';
import type { TargetConfig } from '../plan/types.js';

/** An `unleash` target. */
export interface UnleashTargetConfig extends TargetConfig {
  type: 'unleash';
  url: string;
  token: string;
  project: string;
  feature: string;
  environment: string;
  timeoutMs: number;
  retries: number;
}

/** Test seams: the backoff's sleep and jitter. */
export type UnleashTargetOptions = Pick<RetryOptions, 'sleep' | 'random'>;

/** The strategy type whose `rollout` parameter is the percentage. */
const FLEXIBLE_ROLLOUT = 'flexibleRollout';

interface UnleashStrategy {
  id?: unknown;
  name?: unknown;
  disabled?: unknown;
  parameters?: Record<string, unknown>;
}

interface UnleashEnvironment {
  name?: unknown;
  enabled?: unknown;
  strategies?: UnleashStrategy[];
}

/** The environment and the one active flexibleRollout strategy in it. */
interface Located {
  environment: UnleashEnvironment;
  strategy: UnleashStrategy & { id: string };
}

/**
 * The instance's base URL: trailing slashes and a trailing "/api" (as in SDK configuration,
 * which users tend to copy) are dropped, so both spellings reach /api/admin.
 */
function unleashBaseUrl(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/api$/, '');
}

/** A target that sets the rollout percentage of an Unleash feature in one environment. */
export function createUnleashTarget(config: UnleashTargetConfig, options: UnleashTargetOptions = {}): Target {
  const { project, feature, environment } = config;
  const featureUrl = `${unleashBaseUrl(config.url)}/api/admin/projects/${encodeURIComponent(project)}/features/${encodeURIComponent(feature)}`;
  const environmentUrl = `${featureUrl}/environments/${encodeURIComponent(environment)}`;
  const name = `Unleash feature "${feature}" (project "${project}")`;

  /** Sends one Admin API call; failures are TargetErrors in Unleash's terms. */
  async function call(method: string, url: string, body: unknown, signal: AbortSignal | undefined, notFound: string): Promise<HttpResponse> {
    const headers: Record<string, string> = { authorization: config.token, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await sendWithRetries(
      { url, method, headers, body: body === undefined ? undefined : JSON.stringify(body), timeoutMs: config.timeoutMs },
      { ...options, retries: config.retries, signal },
    );
    if (isSuccess(res)) return res;
    throw failure(method, url, res, notFound);
  }

  /** A non-2xx answer in Unleash's terms: whose fault it is and what to change. */
  function failure(method: string, url: string, res: HttpResponse, notFound: string): TargetError {
    switch (res.status) {
      case 401:
        return statusError(method, url, res, 'Unleash did not accept the token: use an admin API token or a personal access token (client and frontend tokens cannot change flags)');
      case 403:
        return statusError(method, url, res, `the token may not change ${name} in "${environment}" (or that environment requires change requests)`);
      case 404:
        return new TargetError(processSecrets.redact(notFound), 'check target.url, target.project and target.feature in the plan');
      default:
        return statusError(method, url, res);
    }
  }

  async function locate(signal?: AbortSignal): Promise<Located> {
    const res = await call('GET', featureUrl, undefined, signal, `${name} not found (archived features count as missing)`);
    const doc = parseJsonBody('GET', featureUrl, res) as { environments?: unknown };
    const environments = Array.isArray(doc.environments) ? (doc.environments as UnleashEnvironment[]) : [];
    const env = environments.find((e) => e.name === environment);
    if (!env) {
      const known = environments.map((e) => String(e.name)).join(', ') || 'none';
      throw new TargetError(
        processSecrets.redact(`${name} has no environment "${environment}" (it has: ${known})`),
        'check target.environment, or enable that environment for the project in Unleash',
      );
    }
    const flexible = (env.strategies ?? []).filter((s) => s.name === FLEXIBLE_ROLLOUT);
    const active = flexible.filter((s) => s.disabled !== true);
    if (active.length === 0) {
      const what = flexible.length > 0 ? 'only disabled flexibleRollout strategies' : 'no flexibleRollout (gradual rollout) strategy';
      throw new TargetError(
        processSecrets.redact(`${name} has ${what} in environment "${environment}"`),
        'add a "Gradual rollout" strategy to the feature in that environment in the Unleash UI, then run again',
      );
    }
    const [strategy, ...others] = active;
    if (others.length > 0) {
      throw new TargetError(
        processSecrets.redact(`${name} has ${active.length} flexibleRollout strategies in environment "${environment}"; rollout cannot tell which one to change`),
        'keep one gradual rollout strategy in that environment (narrow it with constraints instead of adding more)',
      );
    }
    if (!strategy || typeof strategy.id !== 'string') {
      throw new TargetError(`GET ${featureUrl} answered a strategy without an id; is this an Unleash Admin API?`);
    }
    return { environment: env, strategy: strategy as Located['strategy'] };
  }

  /** What the environment serves: a feature that is off there reaches 0 %, whatever its rollout says. */
  function servedPercent({ environment: env, strategy }: Located): number {
    if (env.enabled === false) return 0;
    const rollout = strategy.parameters?.rollout;
    const percent = parsePercent(rollout);
    if (percent === undefined) {
      throw new TargetError(processSecrets.redact(`${name}: the flexibleRollout rollout parameter is ${JSON.stringify(rollout) ?? 'missing'}, not a percentage`));
    }
    return percent;
  }

  const read = async (signal?: AbortSignal) => servedPercent(await locate(signal));

  return {
    description: processSecrets.redact(`unleash ${feature} (${project}/${environment})`),
    read,
    async apply(percent, signal) {
      const located = await locate(signal);
      if (located.environment.enabled === false && percent > 0) {
        throw new TargetError(
          processSecrets.redact(`${name} is off in environment "${environment}": a rollout of ${percent} % there would reach nobody`),
          // Turning it on is a human decision: it may have been switched off as a kill switch.
          'turn the feature on in that environment in Unleash, then run again',
        );
      }
      const strategyUrl = `${environmentUrl}/strategies/${encodeURIComponent(located.strategy.id)}`;
      const op = located.strategy.parameters && 'rollout' in located.strategy.parameters ? 'replace' : 'add';
      await call('PATCH', strategyUrl, [{ op, path: '/parameters/rollout', value: String(percent) }], signal,
        `${name}: its flexibleRollout strategy in "${environment}" disappeared while rollout was changing it`);
      checkReadBack(percent, await read(signal), `${name} in "${environment}"`);
    },
    async emergency(signal) {
      await call('POST', `${environmentUrl}/off`, undefined, signal, `${name} not found in environment "${environment}"`);
    },
  };
}
