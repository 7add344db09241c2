#!/usr/bin/env -S node --max-old-space-size=512
// The compiled CLI lives in dist/ (built by `npm install` through the `prepare` script).
//
// Why the flag: V8 sizes how far the heap may grow between collections by its configured
// maximum, which on a large machine is gigabytes. submigrate streams (a snapshot holds a few
// pages at a time, about 40 MB live), so a 512 MB ceiling keeps the collector close behind it:
// peak RSS for a 1,000,000-message snapshot fell from ~320 MB to ~235 MB at the same speed
// (`npm run bench` measures it).
try {
  await import('../dist/src/cli/main.js');
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/src/cli')) {
    process.stderr.write('submigrate is not built yet: run `npm install` (or `npm run build`).\n');
    process.exit(1);
  }
  throw error;
}
