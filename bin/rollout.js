#!/usr/bin/env node
import { main } from '../dist/rollout.js';

process.exit(await main(process.argv.slice(2)));
