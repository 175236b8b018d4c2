#!/usr/bin/env node
// `npm run test:load [-- vitest args]`: runs the suite (`npm test`) with two CPU-burning processes
// beside it, as on a loaded 2-core CI machine, so a flaky test shows up here before it does in CI.
// The burners stop with the suite, and by themselves should this script die.
import { fork, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BURNERS = 2;

if (process.argv[2] === '--burn') {
  // Burn in 50 ms slices, so the event loop sees the parent go away between them.
  process.on('disconnect', () => process.exit(0));
  for (;;) {
    const until = Date.now() + 50;
    while (Date.now() < until);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const self = fileURLToPath(import.meta.url);
const burners = Array.from({ length: BURNERS }, () => fork(self, ['--burn'], { stdio: 'ignore' }));
const suite = spawn('npm', ['test', '--', ...process.argv.slice(2)], { stdio: 'inherit' });
const stop = () => {
  for (const burner of burners) burner.kill();
};
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => suite.kill(signal));
suite.on('exit', (code, signal) => {
  stop();
  console.error(`test:load: the suite ran beside ${BURNERS} CPU burners and exited ${code ?? signal}`);
  process.exit(code ?? 1);
});
