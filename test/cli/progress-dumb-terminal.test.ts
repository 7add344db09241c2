/**
 * The progress bar is drawn only on a terminal that can draw it. Under TERM=dumb (an editor's
 * shell buffer, a job runner logging through a pty) its escape sequences and every redraw
 * were shown as text; there it now gets the one summary line a pipe gets. The terminal is a
 * real pty (util-linux `script`). Built CLI, emulator over HTTP.
 */

import { spawn } from 'node:child_process';

import { describe, expect, it } from 'vitest';

import { useCliWorkspace } from '../support/migration.js';
import { BIN } from '../support/snapshot-harness.js';

const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const ESC = '\x1b';

describe('the progress bar on a terminal', () => {
  const ws = useCliWorkspace({ numbers: [{ phone_number: '+14155550101' }] }, NOW);

  /** `snapshot` into a new database, its stderr and stdout the pty's: what the screen shows. */
  async function snapshotOnTerminal(term: string, db: string) {
    const { env, dir } = ws;
    const command = `exec '${process.execPath}' '${BIN}' snapshot --db ${db} --no-export`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: dir.path,
      env: {
        PATH: process.env['PATH'],
        TERM: term,
        SUBMIGRATE_API_URL: env.url,
        TWILIO_ACCOUNT_SID: env.parentSid,
        TWILIO_AUTH_TOKEN: env.parentToken,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (screen += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    return { code, screen };
  }

  it('draws it under TERM=xterm, and under TERM=dumb prints only the summary line', async () => {
    const xterm = await snapshotOnTerminal('xterm', 'x.db');
    expect(xterm.code, xterm.screen).toBe(0);
    // The bar was drawn: this is a terminal to the CLI.
    expect(xterm.screen).toContain('slices and export days');
    expect(xterm.screen).toContain(ESC);

    const dumb = await snapshotOnTerminal('dumb', 'd.db');
    expect(dumb.code, dumb.screen).toBe(0);
    expect(dumb.screen).not.toContain(ESC);
    expect(dumb.screen).not.toContain('slices and export days');
    expect(dumb.screen).toMatch(/^snapshot run 1: \d+ messages read/);
    expect(dumb.screen.trim().split('\n')).toHaveLength(1);
  }, 60_000);
});
