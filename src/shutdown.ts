/**
 * Resources that keep the process alive (kept-alive sockets, database pools) register a closer
 * here when they are created; the entry point closes them all before exiting. A command that
 * never opened a connection therefore never loads the modules that would close one.
 */
const closers = new Set<() => Promise<void>>();

/** Registers `close`, to be called once at shutdown; returns a function that unregisters it. */
export function onShutdown(close: () => Promise<void>): () => void {
  closers.add(close);
  return () => closers.delete(close);
}

/** Runs every registered closer (errors are ignored: the process is ending). */
export async function shutdown(): Promise<void> {
  const pending = [...closers];
  closers.clear();
  await Promise.allSettled(pending.map((close) => close()));
}
