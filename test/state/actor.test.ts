import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../src/errors.js';
import { detectActor, isHolderGone, lockedError, lockHolder } from '../../src/state/actor.js';
import { deadPid } from './store-contract.js';

const host = hostname();

describe('detectActor', () => {
  it.each<[string, Record<string, string>, string]>([
    ['ROLLOUT_ACTOR wins over everything', { ROLLOUT_ACTOR: ' alice ', GITHUB_ACTIONS: 'true', USER: 'bob' }, 'alice'],
    [
      'GitHub Actions: actor, workflow/job and run id',
      { GITHUB_ACTIONS: 'true', GITHUB_ACTOR: 'octocat', GITHUB_WORKFLOW: 'deploy', GITHUB_JOB: 'canary', GITHUB_RUN_ID: '42' },
      'github:octocat deploy/canary#42',
    ],
    ['GitHub Actions without a job', { GITHUB_ACTIONS: 'true', GITHUB_ACTOR: 'octocat', GITHUB_WORKFLOW: 'deploy', GITHUB_RUN_ID: '42' }, 'github:octocat deploy#42'],
    [
      'GitLab CI: login, job name and job id',
      { GITLAB_CI: 'true', GITLAB_USER_LOGIN: 'alice', CI_JOB_NAME: 'rollout', CI_JOB_ID: '7', CI: 'true' },
      'gitlab:alice rollout#7',
    ],
    ['CircleCI', { CIRCLECI: 'true', CIRCLE_USERNAME: 'bob', CIRCLE_JOB: 'ship', CIRCLE_BUILD_NUM: '9' }, 'circleci:bob ship#9'],
    [
      'Buildkite',
      { BUILDKITE: 'true', BUILDKITE_BUILD_CREATOR: 'Carol', BUILDKITE_PIPELINE_SLUG: 'web', BUILDKITE_BUILD_NUMBER: '3' },
      'buildkite:Carol web#3',
    ],
    ['Azure Pipelines', { TF_BUILD: 'True', BUILD_REQUESTEDFOR: 'Dan', BUILD_DEFINITIONNAME: 'cd', BUILD_BUILDID: '5' }, 'azure:Dan cd#5'],
    ['Jenkins without a user', { JENKINS_URL: 'http://ci', JOB_NAME: 'deploy', BUILD_NUMBER: '11' }, 'jenkins:deploy#11'],
    ['a CI that gives nothing', { GITHUB_ACTIONS: 'true' }, 'github:unknown'],
    ['an unknown CI', { CI: 'true', USER: 'runner' }, `ci:runner@${host}`],
    ['CI=false is no CI', { CI: 'false', USER: 'erin' }, `erin@${host}`],
    ['user@host from USER', { USER: 'erin' }, `erin@${host}`],
    ['user@host from LOGNAME', { LOGNAME: 'frank' }, `frank@${host}`],
    ['an empty ROLLOUT_ACTOR is ignored', { ROLLOUT_ACTOR: '  ', USER: 'erin' }, `erin@${host}`],
  ])('%s', (_case, env, actor) => {
    expect(detectActor(env)).toBe(actor);
  });

  it('falls back to the login name when no variable names the user', () => {
    expect(detectActor({})).toMatch(new RegExp(`^.+@${host.replace(/\./g, '\\.')}$`));
  });
});

describe('lock holders', () => {
  const clock = { now: () => Date.UTC(2024, 4, 1, 12), monotonic: () => 0, sleep: async () => undefined };

  it('names the actor, this process, this host, the time and the command', () => {
    expect(lockHolder('advance', { ROLLOUT_ACTOR: 'alice' }, clock)).toEqual({
      actor: 'alice',
      pid: process.pid,
      host,
      since: '2024-05-01T12:00:00.000Z',
      command: 'advance',
    });
  });

  it('tells a holder whose process is gone from this host', async () => {
    const live = lockHolder('run', { ROLLOUT_ACTOR: 'a' });
    expect(isHolderGone(live)).toBe(false);
    expect(isHolderGone({ ...live, pid: await deadPid() })).toBe(true);
    // Another host's pid means nothing here.
    expect(isHolderGone({ ...live, pid: await deadPid(), host: 'elsewhere.invalid' })).toBe(false);
  });

  it('says who holds the lock in the conflict error, since when in local time with its zone (UTC for --utc)', () => {
    const savedTz = process.env.TZ;
    process.env.TZ = 'Asia/Tokyo';
    try {
      const err = lockedError(lockHolder('run', { ROLLOUT_ACTOR: 'alice' }, clock));
      expect(err).toBeInstanceOf(ConflictError);
      expect(err.message).toBe(`locked by alice (pid ${process.pid} on ${host}, run, since 2024-05-01 21:00:00 +09:00)`);
      expect(err.inUtc()).toBe(`locked by alice (pid ${process.pid} on ${host}, run, since 2024-05-01 12:00:00 UTC)`);
      expect(err.hint).toBe('wait for it to finish, or use rollback --emergency');
    } finally {
      if (savedTz === undefined) delete process.env.TZ;
      else process.env.TZ = savedTz;
    }
  });
});
