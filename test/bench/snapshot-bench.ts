/**
 * The snapshot against the hand-written baseline, side by side, in one run.
 *
 * The emulator runs in its own process with the Owlie scenario (1,000,000 messages by
 * default); each contender runs in its own process too, so that its peak RSS is its own.
 * `submigrate snapshot` runs through bin/ exactly as a user runs it. The two contenders at
 * latency run in alternating rounds and each reports its best round (and its highest RSS), so
 * one noisy moment on a shared machine doesn't decide the ratio. The contenders read what the
 * Messages API shows (`--no-export`: the baseline cannot do more); then the export path on its
 * own: the same history with the API's window cut to 7 days, nearly all of it from Bulk Export
 * day files; and a slow Twilio (200,000 messages at 150 ms, 32 in flight, against the same
 * baseline). Flags: --messages N, --latency MS, --partitions N, --concurrency N, --rounds N.
 */

import { join } from 'node:path';

import { bin, check, flag, n, root, run, setLatency, startEmulator, work } from './support.js';

const baseline = join(root, 'dist', 'test', 'bench', 'baseline-each.js');
const MESSAGES = flag('messages', 1_000_000);
const LATENCY = flag('latency', 25);
const PARTITIONS = flag('partitions', 8);
const CONCURRENCY = flag('concurrency', 8);
/** Rounds of baseline-then-snapshot at latency; each contender's best round is reported. */
const ROUNDS = flag('rounds', 2);

interface Measured {
  label: string;
  latency: number;
  messages: number;
  seconds: number;
  rssMb: number;
  /** Of the messages, those read from Bulk Export day files. */
  exportMessages?: number;
}

async function snapshot(
  label: string,
  url: string,
  env: Record<string, string>,
  latency: number,
  extra: string[] = [],
  slots: { partitions: number; concurrency: number } = {
    partitions: PARTITIONS,
    concurrency: CONCURRENCY,
  },
): Promise<Measured> {
  await setLatency(url, latency);
  const db = join(work, `${label.replace(/\W+/g, '-')}-${Math.random().toString(36).slice(2)}.db`);
  const { stdout, rssMb } = await run(
    bin,
    [
      'snapshot',
      '--db',
      db,
      '--partitions',
      String(slots.partitions),
      '--concurrency',
      String(slots.concurrency),
      '--json',
      ...(extra.includes('--export')
        ? extra.filter((a) => a !== '--export')
        : ['--no-export', ...extra]),
    ],
    env,
  );
  const result = JSON.parse(stdout) as {
    messagesRead: number;
    exportMessagesRead: number;
    seconds: number;
  };
  return {
    label,
    latency,
    messages: result.messagesRead,
    exportMessages: result.exportMessagesRead,
    seconds: result.seconds,
    rssMb,
  };
}

/** The hand-written baseline, one walk at `latency`. */
async function baselineWalk(
  url: string,
  env: Record<string, string>,
  latency: number,
  tag: string,
) {
  await setLatency(url, latency);
  const base = await run(process.execPath, [baseline, url, join(work, `baseline-${tag}.db`)], env);
  const parsed = JSON.parse(base.stdout) as { messages: number; seconds: number };
  return {
    label: 'baseline: messages.each, one page at a time',
    latency,
    messages: parsed.messages,
    seconds: parsed.seconds,
    rssMb: base.rssMb,
  };
}

/**
 * A slow Twilio (150 ms a request, as measured from far away): 200,000 messages, all within
 * the Messages API's window, read with 32 requests in flight against the baseline's one.
 */
const SLOW = { messages: 200_000, latency: 150, partitions: 32, concurrency: 32 };

async function benchSlowTwilio(): Promise<string[]> {
  process.stderr.write(
    `bench: a slow Twilio: ${n(SLOW.messages)} messages at ${SLOW.latency} ms, ${SLOW.concurrency} in flight…\n`,
  );
  const emulator = await startEmulator([
    '--scenario',
    'owlie',
    '--messages',
    String(SLOW.messages),
    '--history-days',
    '300',
  ]);
  const baselines: Measured[] = [];
  const ours: Measured[] = [];
  try {
    await snapshot('warm-up', emulator.url, emulator.env, 0);
    for (let round = 1; round <= ROUNDS; round++) {
      baselines.push(await baselineWalk(emulator.url, emulator.env, SLOW.latency, `slow-${round}`));
      ours.push(
        await snapshot(
          `submigrate snapshot, ${SLOW.partitions} partitions, ${SLOW.concurrency} in flight`,
          emulator.url,
          emulator.env,
          SLOW.latency,
          [],
          SLOW,
        ),
      );
    }
  } finally {
    emulator.stop();
  }
  const [base, fast] = [best(baselines), best(ours)];
  const ratio = base.seconds / fast.seconds;
  return [
    `a slow Twilio: ${n(SLOW.messages)} messages at ${SLOW.latency} ms — baseline ${n(base.seconds, 1)} s (${n(base.messages)} messages), snapshot with ${SLOW.concurrency} in flight ${n(fast.seconds, 1)} s (${n(fast.messages)} messages): ${ratio.toFixed(1)}x   (target ≥ 10x: ${check(ratio >= 10)})`,
  ];
}

/** The fastest round, with the highest peak RSS seen in any round. */
function best(rounds: readonly Measured[]): Measured {
  const fastest = rounds.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  return { ...fastest, rssMb: Math.max(...rounds.map((m) => m.rssMb)) };
}

export async function benchSnapshot(): Promise<string> {
  process.stderr.write(`bench: starting the emulator with ${n(MESSAGES)} messages…\n`);
  // Within the Messages API's 400 days, so that the baseline (which cannot read Bulk Export)
  // and the snapshot read the same messages; the export path then cuts the API's window to 7.
  const emulator = await startEmulator([
    '--scenario',
    'owlie',
    '--messages',
    String(MESSAGES),
    '--history-days',
    '300',
  ]);
  const env = emulator.env;
  const results: Measured[] = [];
  try {
    // The emulator keeps each message's JSON once rendered; one unmeasured read first, so that
    // every contender meets the same, warm emulator.
    process.stderr.write('bench: warm-up read (not measured)…\n');
    await snapshot('warm-up', emulator.url, env, 0);
    const baselines: Measured[] = [];
    const snapshots: Measured[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      process.stderr.write(
        `bench: round ${round}/${ROUNDS}: baseline (messages.each) at ${LATENCY} ms…\n`,
      );
      await setLatency(emulator.url, LATENCY);
      const base = await run(
        process.execPath,
        [baseline, emulator.url, join(work, `baseline-${round}.db`)],
        env,
      );
      const parsed = JSON.parse(base.stdout) as { messages: number; seconds: number };
      baselines.push({
        label: 'baseline: messages.each, one page at a time',
        latency: LATENCY,
        messages: parsed.messages,
        seconds: parsed.seconds,
        rssMb: base.rssMb,
      });
      await setLatency(emulator.url, LATENCY);
      process.stderr.write(
        `bench: round ${round}/${ROUNDS}: submigrate snapshot at ${LATENCY} ms…\n`,
      );
      snapshots.push(
        await snapshot(
          `submigrate snapshot, ${PARTITIONS} partitions, ${CONCURRENCY} in flight`,
          emulator.url,
          env,
          LATENCY,
        ),
      );
    }
    results.push(best(baselines), best(snapshots));
    process.stderr.write(
      `bench: rounds at ${LATENCY} ms, seconds: baseline ${baselines.map((m) => m.seconds.toFixed(1)).join(' ')}; snapshot ${snapshots.map((m) => m.seconds.toFixed(1)).join(' ')}\n`,
    );
    process.stderr.write('bench: submigrate snapshot at 0 ms…\n');
    results.push(await snapshot('submigrate snapshot, no latency', emulator.url, env, 0));
    process.stderr.write('bench: submigrate snapshot of the last 30 days at 0 ms…\n');
    const since = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10);
    results.push(
      await snapshot('submigrate snapshot, last 30 days only', emulator.url, env, 0, [
        '--since',
        since,
      ]),
    );
    // The export path: the API's window cut to 7 days, the rest of the history from day files.
    process.stderr.write(
      'bench: submigrate snapshot with a 7-day API window (Bulk Export) at 0 ms…\n',
    );
    await fetch(`${emulator.url}/__emulator/settings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message_retention_days: 7 }),
    });
    results.push(
      await snapshot('submigrate snapshot, 7-day API window + Bulk Export', emulator.url, env, 0, [
        '--export',
        '--retention-days',
        '7',
      ]),
    );
  } finally {
    emulator.stop();
  }

  const [base, ours, fast, small, exported] = results as [
    Measured,
    Measured,
    Measured,
    Measured,
    Measured,
  ];
  const rate = (m: Measured) => m.messages / m.seconds;
  const rows = results.map((m) =>
    [
      m.label.padEnd(44),
      `${m.latency} ms`.padStart(7),
      n(m.messages).padStart(11),
      n(m.seconds, 1).padStart(8),
      n(rate(m)).padStart(9),
      `${n(m.rssMb)} MB`.padStart(9),
    ].join('  '),
  );
  const ratio = rate(ours) / rate(base);
  const peak = Math.max(ours.rssMb, fast.rssMb, small.rssMb);
  return [
    `snapshot bench: ${n(MESSAGES)} messages in the emulator (Owlie), PageSize 1000, ${process.platform} ${process.arch}, node ${process.version}`,
    '',
    `${'contender'.padEnd(44)}  ${'latency'.padStart(7)}  ${'messages'.padStart(11)}  ${'seconds'.padStart(8)}  ${'msg/s'.padStart(9)}  ${'peak RSS'.padStart(9)}`,
    ...rows,
    '',
    `snapshot vs baseline at ${LATENCY} ms, ${CONCURRENCY} in flight: ${ratio.toFixed(1)}x   (target ≥ 5x: ${check(ratio >= 5)})`,
    `peak RSS of snapshot: ${n(peak)} MB over ${n(small.messages)} and ${n(fast.messages)} messages   (target < 250 MB: ${check(peak < 250)})`,
    `snapshot without latency: ${n(rate(fast))} msg/s   (target ≥ 50,000: ${check(rate(fast) >= 50_000)})`,
    ...(await benchSlowTwilio()),
    `export path: ${n(exported.exportMessages ?? 0)} of ${n(exported.messages)} messages from day files, ${n((exported.exportMessages ?? 0) / exported.seconds)} msg/s from day files, beside ${n(rate(fast))} msg/s from the API (${((exported.exportMessages ?? 0) / exported.seconds / rate(fast)).toFixed(2)}x)`,
    '',
  ].join('\n');
}
