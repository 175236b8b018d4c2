#!/bin/sh
# Runs a TypeScript file once (scratch and benchmarks): bundles it with esbuild, then runs node.
out=$(mktemp -d)/run.mjs
"$(dirname "$0")/../node_modules/.bin/esbuild" "$1" --bundle --platform=node --format=esm --log-level=warning --outfile="$out" \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" --external:pg-native && shift && node "$out" "$@"
