/**
 * A pseudo-terminal for tests: a command in a detached tmux session, typed into and read back.
 * Each terminal has a tmux server of its own (`-S`, a socket removed on close): on one shared server, a test file closing its
 * last session stopped the server while another file's `new-session` was connecting to it, which
 * then failed with "server exited unexpectedly" (seen in a CI rehearsal on a loaded machine).
 */
import { execFileSync, type ExecFileSyncOptions } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Terminal {
  /** Types keys (tmux send-keys syntax: 'y', 'Enter', 'Down'). */
  send(...keys: string[]): void;
  /** The visible screen. */
  screen(): string;
  /** The visible screen with its colours and attributes as escape sequences (SGR). */
  screenWithEscapes(): string;
  /** Everything the terminal still holds: the scrollback, then the visible screen. */
  scrollback(): string;
  /** Polls the screen until `pattern` shows (or fails after `timeoutMs` with the screen). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  close(): void;
}

let sessions = 0;

/** Starts `command` (a shell command line) in a terminal of `columns`×`rows` (default 200×50), in `cwd`, with `env` added. */
export function openTerminal(command: string, options: { cwd: string; env?: Record<string, string>; columns?: number; rows?: number }): Terminal {
  const name = `rollout-test-${process.pid}-${++sessions}`;
  const socket = join(tmpdir(), `${name}.tmux`);
  const tmux = (args: string[], execOptions: ExecFileSyncOptions = {}) => execFileSync('tmux', ['-S', socket, ...args], execOptions);
  const exports = Object.entries(options.env ?? {}).map(([k, v]) => `${k}='${v.replace(/'/g, "'\\''")}'`).join(' ');
  // CI must be unset inside: the tool never prompts under CI. Colour variables are unset too, as a
  // person's terminal has them, whatever the tmux server inherited. `; sleep 30` keeps the last screen readable.
  tmux(['new-session', '-d', '-s', name, '-x', String(options.columns ?? 200), '-y', String(options.rows ?? 50), '-c', options.cwd, `env -u CI -u NO_COLOR -u FORCE_COLOR ${exports} ${command}; sleep 30`]);
  const terminal: Terminal = {
    send: (...keys) => void tmux(['send-keys', '-t', name, ...keys]),
    screen: () => String(tmux(['capture-pane', '-p', '-t', name], { encoding: 'utf8' })),
    screenWithEscapes: () => String(tmux(['capture-pane', '-p', '-e', '-t', name], { encoding: 'utf8' })),
    scrollback: () => String(tmux(['capture-pane', '-p', '-S', '-', '-t', name], { encoding: 'utf8' })),
    async waitFor(pattern, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const screen = terminal.screen();
        if (pattern.test(screen)) return screen;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; the screen was:\n${screen}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    close: () => {
      try {
        tmux(['kill-server'], { stdio: 'ignore' });
      } catch {
        // already gone
      }
      rmSync(socket, { force: true });
    },
  };
  return terminal;
}
