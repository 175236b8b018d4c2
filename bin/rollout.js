#!/usr/bin/env node
import '../dist/rollout.js';
