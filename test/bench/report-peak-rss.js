/**
 * Preload for test/bench/scale-bench.ts (`node -r ./test/bench/report-peak-rss.js SCRIPT …`): as the
 * process exits, writes its peak resident set size, `process.resourceUsage().maxRSS` (KiB, the
 * kernel's ru_maxrss), to stderr as one line `nmtb-bench peak-rss-kib=N`, which the bench reads
 * and removes before it shows the child's own errors. Plain CommonJS so that `node -r` loads it
 * without a compiler; writes to a pipe are synchronous on Linux, so the line is not lost at exit.
 */
/* global process */
"use strict";

process.on("exit", () => {
  process.stderr.write(`\nnmtb-bench peak-rss-kib=${process.resourceUsage().maxRSS}\n`);
});
