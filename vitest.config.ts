import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The JSON report is what .ci/run counts; the default reporter is for people.
    reporters: ['default', 'json'],
    outputFile: { json: 'reports/vitest.json' },
    // A guard against a hang, not a limit on speed: the slowest files start the CLI dozens of
    // times or load 200,000 messages (20-30 s on an idle 2-core machine), and ran past a 60 s
    // guard when other work loaded the machine (a load average of 11 tripled their times).
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
  },
});
