/**
 * What every bench section shares: flags, a scratch folder, a runner that measures a child
 * process's peak RSS (getrusage, via test/bench/rss-probe.mjs), and the emulator in its own
 * process, started through bin/ exactly as a user starts it.
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { packageRoot } from '../../src/cli/runtime.js';

export const root = packageRoot();
export const bin = join(root, 'bin', 'submigrate.js');
const probe = join(root, 'test', 'bench', 'rss-probe.mjs');

export function flag(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index < 0 ? fallback : Number(process.argv[index + 1]);
}

export const TOKEN = 'b'.repeat(32);
export const work = mkdtempSync(join(tmpdir(), 'submigrate-bench-'));

export const n = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export const log = (text: string) => process.stderr.write(`bench: ${text}\n`);

/** Runs a command to completion; returns its stdout, exit code and peak RSS in MB. */
export function run(
  command: string,
  args: string[],
  env: Record<string, string>,
  okCodes: readonly number[] = [0],
) {
  const rssFile = join(work, `rss-${Math.random().toString(36).slice(2)}`);
  return new Promise<{ stdout: string; rssMb: number; code: number }>((resolve, reject) => {
    const child = spawn(command, args, {
      // In the scratch folder: apply writes reports/ under its working directory.
      cwd: work,
      env: { ...process.env, ...env, BENCH_RSS_FILE: rssFile, NODE_OPTIONS: `--import=${probe}` },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === null || !okCodes.includes(code)) {
        return reject(new Error(`${command} ${args.join(' ')} exited ${code}`));
      }
      resolve({ stdout, code, rssMb: Number(readFileSync(rssFile, 'utf8')) / 1024 });
    });
  });
}

export interface BenchEmulator {
  url: string;
  accountSid: string;
  env: Record<string, string>;
  stop(): void;
}

/** `submigrate emulator` with these arguments, on a free port, with a known token. */
export async function startEmulator(args: string[]): Promise<BenchEmulator> {
  const child = spawn(
    process.execPath,
    [bin, 'emulator', ...args, '--port', '0', '--auth-token', TOKEN, '--json'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const end = buffered.indexOf('\n');
      if (end >= 0) resolve(buffered.slice(0, end));
    });
    child.on('exit', (code) => reject(new Error(`emulator exited ${code}`)));
  });
  const { url, account_sid: accountSid } = JSON.parse(line) as { url: string; account_sid: string };
  return {
    url,
    accountSid,
    env: { SUBMIGRATE_API_URL: url, TWILIO_ACCOUNT_SID: accountSid, TWILIO_AUTH_TOKEN: TOKEN },
    stop: () => child.kill('SIGTERM'),
  };
}

export async function setFaults(url: string, faults: Record<string, number>): Promise<void> {
  const response = await fetch(`${url}/__emulator/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  });
  if (!response.ok) throw new Error(`faults: ${response.status}`);
}

export const setLatency = (url: string, latency: number) => setFaults(url, { latency_ms: latency });

export const check = (ok: boolean) => (ok ? 'met' : 'MISSED');
