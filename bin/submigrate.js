#!/usr/bin/env -S node --max-old-space-size=512
// The compiled CLI lives in dist/ (built by `npm install` through the `prepare` script).
//
// Why the flag: V8 sizes how far the heap may grow between collections by its configured
// maximum, which on a large machine is gigabytes. submigrate streams (a snapshot holds a few
// pages at a time, about 50 MB live), so a 512 MB ceiling keeps the collector close behind it:
// a 1,000,000-message snapshot peaked at 208-241 MB without it, 198-209 MB with it
// (`npm run bench` measures it). `submigrate emulator` re-runs itself with a bigger heap.
try {
  await import('../dist/src/cli/main.js');
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/src/cli')) {
    process.stderr.write('submigrate is not built yet: run `npm install` (or `npm run build`).\n');
    process.exit(1);
  }
  throw error;
}
