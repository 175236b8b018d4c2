/**
 * zod as rollout uses it: every schema of the tool imports `z` from here. Each command parses a
 * plan or a state file once, so zod's compiled fast path (code generated and compiled at the
 * first parse, and never in the code cache) costs more than it saves: 3 ms of `rollout validate`
 * (bench/README.md).
 */
import { config } from 'zod';

config({ jitless: true });

export { z } from 'zod';
