/**
 * `rollout state migrate [plan] --to <store> [--from <store>]`: copies one rollout's state and its
 * whole history from one store to another — files to PostgreSQL when a team starts sharing a
 * rollout, and back. A store is `file` (the plan's state directory, or --state-dir), a directory,
 * or a postgres:// URL. The source is left as it was.
 */
import { resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { stateMigrateDocument } from '../cli/json-documents.js';
import { ConflictError, ExitCode, UsageError } from '../errors.js';
import type { Plan } from '../plan/types.js';
import { lockHolder } from '../state/actor.js';
import { createStore } from '../state/create-store.js';
import { redactUrl } from '../state/redact-url.js';
import type { HistoryEvent, RolloutState, StateStore } from '../state/types.js';
import type { CommandContext, CommandResult } from '../context.js';
import { stateDirOf, withStoreLock } from '../rollout/open.js';
import { loadPlanForCommand } from '../rollout/plan.js';

/** Options of `rollout state migrate`. */
export interface StateMigrateOptions {
  plan: string;
  /** `file` (default), a directory, or a postgres:// URL. */
  from?: string;
  /** Same forms as `from`. */
  to: string;
  /** The directory `file` stands for (default: .rollout/ beside the plan). */
  stateDir?: string;
  json?: boolean;
}

/** Where one side of the migration keeps the rollout, and how to name it without a password. */
interface Location {
  /** A postgres:// URL, or else… */
  url?: string;
  /** …the file store's directory. */
  dir?: string;
  /** For messages: the directory, or the URL with its password replaced. */
  shown: string;
  /** Equal for two locations that are the same store. */
  identity: string;
}

/** One side of the migration, opened. */
interface Endpoint extends Location {
  store: StateStore;
}

/** A store's content for this rollout. */
interface Content {
  state: RolloutState | undefined;
  events: HistoryEvent[];
}

/** Copies the rollout's state and history, holding both stores' locks. */
export async function stateMigrateCommand(options: StateMigrateOptions, ctx: CommandContext): Promise<CommandResult> {
  const plan = await loadPlanForCommand(options.plan, ctx);
  const from = locate(options.from ?? 'file', plan, options);
  const to = locate(options.to, plan, options);
  if (from.identity === to.identity) throw new UsageError(`--from and --to are the same store (${to.shown})`, 'name the store the rollout moves to with --to');
  const source = await openEndpoint(from, plan, ctx);
  try {
    const destination = await openEndpoint(to, plan, ctx);
    try {
      const holder = lockHolder('state migrate', ctx.env, ctx.clock);
      const { content, copied } = await withStoreLock(source.store, holder, ctx, () =>
        withStoreLock(destination.store, holder, ctx, async () => {
          const done = await copy(plan, source, destination);
          if (done.copied) await copySamples(source, destination, ctx);
          return done;
        }),
      );
      const what = summarize(plan, content);
      if (options.json) {
        ctx.out.printJson(stateMigrateDocument(plan, { from: source.shown, to: destination.shown, copied, state: content.state, events: content.events.length }));
      } else if (copied) {
        ctx.out.print(`copied ${plan.name} from ${source.shown} to ${destination.shown}: ${what}`);
        ctx.out.print(`${source.shown} is left as it was; point every command at ${destination.shown} from now on`);
      } else {
        ctx.out.print(`${destination.shown} already holds the same state and history of ${plan.name} (${what}); nothing copied`);
      }
      return { exitCode: ExitCode.ok };
    } finally {
      await destination.store.close();
    }
  } finally {
    await source.store.close();
  }
}

/**
 * Reads the source and writes it to an empty destination in one save (state and history
 * together, so a failure leaves the destination empty). A destination that already knows the
 * rollout is refused unless it holds the same, which makes a repeated migration a no-op.
 */
async function copy(plan: Plan, source: Endpoint, destination: Endpoint): Promise<{ content: Content; copied: boolean }> {
  const content: Content = { state: await source.store.load(), events: await source.store.history() };
  if (!content.state && content.events.length === 0) {
    throw new UsageError(`nothing to migrate: ${source.shown} has no state or history of ${plan.name}`, 'check --from (and --state-dir, for files)');
  }
  const existing: Content = { state: await destination.store.load(), events: await destination.store.history() };
  if (existing.state || existing.events.length > 0) {
    if (sameContent(existing, content)) return { content, copied: false };
    throw new ConflictError(
      `${destination.shown} already has state of ${plan.name} (${summarize(plan, existing)}), different from ${source.shown} (${summarize(plan, content)}); nothing copied`,
      'migrate into a store that has never held this rollout, or remove the rollout there first if that copy is stale',
    );
  }
  // Version 1 with the usual compare-and-set, not the source's number: the version is each store's
  // own write counter, and the compare-and-set turns a write that slipped in since the check above
  // (only `rollback --emergency` can, by taking over the lock) into a refusal instead of a loss.
  if (content.state) await destination.store.save({ ...content.state, version: 1 }, content.events);
  else await destination.store.append(content.events);
  return { content, copied: true };
}

/** The poll log goes along, after state and history: charts only, so a failure is a warning. */
async function copySamples(source: Endpoint, destination: Endpoint, ctx: CommandContext): Promise<void> {
  try {
    await destination.store.appendSamples(await source.store.samples());
  } catch (err) {
    ctx.out.error(`warning: the poll log (the report's chart readings) was not copied: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** True when both stores hold the same state (whatever their version counters say) and history. */
function sameContent(a: Content, b: Content): boolean {
  // Through JSON: PostgreSQL's jsonb reorders keys, and optional fields may be absent or undefined.
  const plain = (c: Content) => JSON.parse(JSON.stringify({ state: c.state && { ...c.state, version: 0 }, events: c.events })) as unknown;
  return isDeepStrictEqual(plain(a), plain(b));
}

const urlScheme = /^[a-z][a-z0-9+.-]*:\/\//i;

/** Where `spec` (`file`, a directory or a URL) keeps the rollout. */
function locate(spec: string, plan: Plan, options: Pick<StateMigrateOptions, 'stateDir'>): Location {
  if (urlScheme.test(spec)) return { url: spec, shown: redactUrl(spec), identity: spec };
  const dir = resolve(spec === 'file' ? stateDirOf(plan, options) : spec);
  return { dir, shown: dir, identity: `file:${dir}` };
}

async function openEndpoint(location: Location, plan: Plan, ctx: CommandContext): Promise<Endpoint> {
  // Without ROLLOUT_STATE_URL: here `file` must mean files, whatever the environment says.
  const env = { ...ctx.env, ROLLOUT_STATE_URL: undefined };
  // A URL picks PostgreSQL, which ignores `dir`.
  const store = await createStore({ backend: 'file', url: location.url, dir: location.dir ?? '', plan: plan.name, env });
  return { ...location, store };
}

/** A store's content in words, the state as `status` puts it: "stage 3/5 at 50%, 5 events". */
function summarize(plan: Plan, { state, events }: Content): string {
  return `${describeState(plan, state)}, ${events.length} event${events.length === 1 ? '' : 's'}`;
}

function describeState(plan: Plan, state: RolloutState | undefined): string {
  if (!state) return 'no state';
  const flags = `${state.completed ? ', complete' : ''}${state.paused ? ', paused' : ''}`;
  if (state.stageIndex >= 0) return `stage ${state.stageIndex + 1}/${plan.stages.length} at ${state.percent}%${flags}`;
  if (state.percent > 0) return `at ${state.percent}%, between stages${flags}`;
  return `${state.rolledBack ? 'rolled back to 0%' : 'not started'}${flags}`;
}
