/** Preloaded with `node --import`: writes this process's peak RSS to $SYRF_BENCH_RSS_FILE when it exits. */
import { writeFileSync } from 'node:fs';

const target = process.env.SYRF_BENCH_RSS_FILE;
if (target) {
  process.on('exit', () => {
    writeFileSync(target, JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS }));
  });
}
