// Preloaded into a measured process (node -r bench/peak-rss.cjs): at exit, appends the process's
// peak RSS (the kernel's high-water mark, in KiB) to the file BENCH_PEAK_RSS_FILE names.
'use strict';
process.on('exit', () => require('node:fs').appendFileSync(process.env.BENCH_PEAK_RSS_FILE, `${process.resourceUsage().maxRSS}\n`));
