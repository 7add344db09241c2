// Loaded with NODE_OPTIONS=--import into a benchmarked process: on exit, writes the
// process's peak resident set size (kilobytes, from getrusage) to $BENCH_RSS_FILE.
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_RSS_FILE;
if (file) {
  process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
}
