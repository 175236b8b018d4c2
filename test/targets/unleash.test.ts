/**
 * The unleash target against a local server that speaks the Unleash Admin API routes and shapes
 * it uses (GET feature, PATCH strategy with JSON Patch, POST environment off), as documented in
 * Unleash's OpenAPI spec (featureSchema, featureEnvironmentSchema, featureStrategySchema).
 */
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TargetError } from '../../src/errors.js';
import type { UnleashTargetConfig } from '../../src/targets/kinds/unleash.js';
import { processSecrets } from '../../src/plan/secrets.js';
import { createUnleashTarget } from '../../src/targets/unleash.js';
import { sendJson, startTestServer, type RecordedRequest, type TestServer } from '../helpers/http-server.js';

const TOKEN = '*:*.unleash-admin-token-7f3a';
const STRATEGY_ID = '6b5157cb-343a-41e7-bfa3-7b4ec3044840';

interface Strategy {
  id: string;
  name: string;
  title: string | null;
  disabled: boolean;
  constraints: unknown[];
  parameters: Record<string, string>;
  segments: number[];
  sortOrder: number;
}
interface Environment {
  name: string;
  type: string;
  enabled: boolean;
  sortOrder: number;
  strategies: Strategy[];
}

let server: TestServer;
let environments: Environment[];
/** When false, the fake accepts a PATCH but does not store it (a target that ignores updates). */
let storePatches = true;
/** How many feature GETs answer 503 before the fake recovers. */
let failNextGets = 0;

function flexible(rollout: string, overrides: Partial<Strategy> = {}): Strategy {
  return {
    id: STRATEGY_ID,
    name: 'flexibleRollout',
    title: null,
    disabled: false,
    constraints: [{ contextName: 'appName', operator: 'IN', values: ['checkout'], inverted: false, caseInsensitive: false }],
    parameters: { rollout, stickiness: 'default', groupId: 'checkout-v2' },
    segments: [],
    sortOrder: 0,
    ...overrides,
  };
}

function unleash(req: RecordedRequest, res: ServerResponse): void {
  if (req.headers.authorization !== TOKEN) {
    return sendJson(res, 401, { id: 'e1', name: 'AuthenticationRequired', message: 'You must log in to use Unleash.' });
  }
  const path = req.url.split('?')[0] ?? '';
  const feature = /^\/api\/admin\/projects\/default\/features\/checkout-v2(\/.*)?$/.exec(path);
  if (!feature) {
    return sendJson(res, 404, { id: 'e2', name: 'NotFoundError', message: 'Could not find feature flag' });
  }
  const rest = feature[1] ?? '';
  if (req.method === 'GET' && rest === '') {
    if (failNextGets > 0) {
      failNextGets--;
      return sendJson(res, 503, { message: 'database unavailable' });
    }
    return sendJson(res, 200, { name: 'checkout-v2', project: 'default', type: 'release', stale: false, environments });
  }
  const env = /^\/environments\/([^/]+)(\/.*)$/.exec(rest);
  const environment = environments.find((e) => e.name === env?.[1]);
  if (!env || !environment) return sendJson(res, 404, { name: 'NotFoundError', message: 'environment not found' });
  if (req.method === 'POST' && env[2] === '/off') {
    environment.enabled = false;
    res.writeHead(200).end();
    return;
  }
  const strategy = environment.strategies.find((s) => `/strategies/${s.id}` === env[2]);
  if (req.method === 'PATCH' && strategy) {
    const ops = JSON.parse(req.body) as Array<{ op: string; path: string; value: string }>;
    for (const op of ops) {
      if ((op.op === 'replace' || op.op === 'add') && op.path === '/parameters/rollout') {
        if (storePatches) strategy.parameters.rollout = op.value;
      } else return sendJson(res, 400, { name: 'BadDataError', message: `unsupported op ${op.op} ${op.path}` });
    }
    return sendJson(res, 200, strategy);
  }
  sendJson(res, 404, { name: 'NotFoundError', message: 'no such route' });
}

beforeAll(async () => {
  server = await startTestServer(unleash);
  processSecrets.add(TOKEN);
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
  server.handle(unleash);
  storePatches = true;
  failNextGets = 0;
  environments = [
    { name: 'development', type: 'development', enabled: true, sortOrder: 1, strategies: [flexible('100', { id: 'dev-strategy' })] },
    {
      name: 'production',
      type: 'production',
      enabled: true,
      sortOrder: 2,
      strategies: [{ ...flexible('0'), id: 'default-1', name: 'default', parameters: {} }, flexible('10')],
    },
  ];
});

function target(overrides: Partial<UnleashTargetConfig> = {}) {
  return createUnleashTarget(
    {
      type: 'unleash',
      url: server.url,
      token: TOKEN,
      project: 'default',
      feature: 'checkout-v2',
      environment: 'production',
      timeoutMs: 2_000,
      retries: 2,
      ...overrides,
    },
    { sleep: async () => {}, random: () => 0 },
  );
}

const production = () => environments.find((e) => e.name === 'production') as Environment;
const rolloutStrategy = () => production().strategies.find((s) => s.id === STRATEGY_ID) as Strategy;
const FEATURE = '/api/admin/projects/default/features/checkout-v2';

describe('unleash target', () => {
  it('patches the flexibleRollout rollout parameter in the environment and reads it back', async () => {
    await target().apply(25);

    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      `GET ${FEATURE}`,
      `PATCH ${FEATURE}/environments/production/strategies/${STRATEGY_ID}`,
      `GET ${FEATURE}`,
    ]);
    for (const r of server.requests) expect(r.headers.authorization).toBe(TOKEN);
    const patch = server.requests[1];
    expect(patch?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(patch?.body ?? '')).toEqual([{ op: 'replace', path: '/parameters/rollout', value: '25' }]);
    // Unleash keeps the percentage as a string; nothing else about the strategy changed.
    expect(rolloutStrategy().parameters).toEqual({ rollout: '25', stickiness: 'default', groupId: 'checkout-v2' });
    expect(rolloutStrategy().constraints).toHaveLength(1);
    expect(environments[0]?.strategies[0]?.parameters.rollout).toBe('100');
  });

  it('adds the rollout parameter when the strategy lacks it', async () => {
    delete rolloutStrategy().parameters.rollout;
    await target().apply(5);
    expect(JSON.parse(server.requests[1]?.body ?? '')).toEqual([{ op: 'add', path: '/parameters/rollout', value: '5' }]);
  });

  it('reads the rollout as a number, and 0 where the feature is off', async () => {
    expect(await target().read()).toBe(10);
    production().enabled = false;
    expect(await target().read()).toBe(0);
  });

  it('accepts the base URL with a trailing /api/', async () => {
    expect(await target({ url: `${server.url}/api/` }).read()).toBe(10);
    expect(server.requests[0]?.url).toBe(FEATURE);
  });

  it('retries a 503 from Unleash', async () => {
    failNextGets = 2;
    expect(await target().read()).toBe(10);
    expect(server.requests).toHaveLength(3);
  });

  it('turns the feature off in the environment as its emergency action', async () => {
    await target().emergency();
    expect(server.requests.map((r) => `${r.method} ${r.url} ${r.headers.authorization}`)).toEqual([
      `POST ${FEATURE}/environments/production/off ${TOKEN}`,
    ]);
    expect(production().enabled).toBe(false);
    expect(environments[0]?.enabled).toBe(true);
  });

  it('fails when Unleash ignores the update', async () => {
    storePatches = false;
    await expect(target().apply(25)).rejects.toThrow('read back 10% from Unleash feature "checkout-v2" (project "default") in "production", expected 25%');
  });

  it('names an unknown feature', async () => {
    const err = await target({ feature: 'checkout-v3' }).read().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetError);
    expect((err as Error).message).toBe('Unleash feature "checkout-v3" (project "default") not found (archived features count as missing)');
  });

  it('names an environment the feature does not have, and the ones it has', async () => {
    await expect(target({ environment: 'staging' }).apply(10)).rejects.toThrow(
      'Unleash feature "checkout-v2" (project "default") has no environment "staging" (it has: development, production)',
    );
  });

  it('says how to fix a missing flexibleRollout strategy', async () => {
    production().strategies = production().strategies.filter((s) => s.name !== 'flexibleRollout');
    const err = (await target().apply(10).catch((e: unknown) => e)) as TargetError;
    expect(err.message).toMatch(/has no flexibleRollout \(gradual rollout\) strategy in environment "production"/);
    expect(err.hint).toMatch(/add a "Gradual rollout" strategy .* in the Unleash UI/);
    expect(server.requests.map((r) => r.method)).toEqual(['GET']);
  });

  it('ignores disabled strategies and refuses to pick among several active ones', async () => {
    production().strategies.push(flexible('50', { id: 'disabled-one', disabled: true }));
    expect(await target().read()).toBe(10);
    production().strategies.push(flexible('50', { id: 'second' }));
    await expect(target().apply(20)).rejects.toThrow(/has 2 flexibleRollout strategies .* cannot tell which one/);
  });

  it('does not roll out into an environment where the feature is off', async () => {
    production().enabled = false;
    const err = (await target().apply(10).catch((e: unknown) => e)) as TargetError;
    expect(err.message).toMatch(/is off in environment "production"/);
    expect(err.hint).toMatch(/turn the feature on/);
    expect(server.requests.map((r) => r.method)).toEqual(['GET']);
    // Going to 0 % is still possible (a rollback of a switched-off feature).
    await target().apply(0);
    expect(rolloutStrategy().parameters.rollout).toBe('0');
  });

  it('explains a rejected token without printing it', async () => {
    const err = (await target({ token: `${TOKEN}-revoked` }).apply(10).catch((e: unknown) => e)) as TargetError;
    expect(err).toBeInstanceOf(TargetError);
    expect(err.message).toBe(`GET ${server.url}${FEATURE} answered 401: {"id":"e1","name":"AuthenticationRequired","message":"You must log in to use Unleash."}`);
    expect(err.hint).toMatch(/admin API token or a personal access token/);
    expect(server.requests).toHaveLength(1);
  });
});
