import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { createStore } from '../../src/state/create-store.js';

describe('createStore', () => {
  const base = { dir: '/nonexistent/.rollout', plan: 'checkout-v2' };

  it('keeps state in files by default', async () => {
    const store = await createStore({ ...base, backend: 'file', env: {} });
    expect(store.dir).toBe(base.dir);
  });

  it.each<[string, Parameters<typeof createStore>[0]]>([
    ['a postgres:// url', { ...base, backend: 'file', url: 'postgres://db/app', env: {} }],
    ['a postgresql:// url with backend postgres', { ...base, backend: 'postgres', url: 'postgresql://db/app', env: {} }],
    ['ROLLOUT_STATE_URL', { ...base, backend: 'file', env: { ROLLOUT_STATE_URL: 'postgres://db/app' } }],
  ])('picks PostgreSQL for %s', async (_case, options) => {
    const store = await createStore(options);
    // The remote store has no directory for side files.
    expect(store.dir).toBeUndefined();
    await store.close();
  });

  it('refuses backend postgres without a URL, naming the ways to give one', async () => {
    await expect(createStore({ ...base, backend: 'postgres', env: {} })).rejects.toThrow(UsageError);
    await expect(createStore({ ...base, backend: 'postgres', env: {} })).rejects.toMatchObject({
      hint: expect.stringContaining('ROLLOUT_STATE_URL'),
    });
  });

  it('takes the lock lease from ROLLOUT_LOCK_LEASE_MS, refusing one that is not whole milliseconds ≥ 1000', async () => {
    expect((await createStore({ ...base, backend: 'file', env: { ROLLOUT_LOCK_LEASE_MS: '2000' } })).dir).toBe(base.dir);
    for (const value of ['500', '1500.5', 'soon']) {
      await expect(createStore({ ...base, backend: 'file', env: { ROLLOUT_LOCK_LEASE_MS: value } })).rejects.toThrow(
        `ROLLOUT_LOCK_LEASE_MS=${value} is not a whole number of milliseconds of at least 1000`,
      );
    }
  });

  it('refuses an unknown scheme without echoing the rest of the URL', async () => {
    const err = await createStore({ ...base, backend: 'file', url: 'mysql://u:hunter2@db/app', env: {} }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toBe('unsupported state URL scheme "mysql:"');
  });
});
