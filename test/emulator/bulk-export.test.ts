/**
 * Bulk Export for Messages through the real SDK over HTTP: custom jobs that
 * complete on the emulator clock, the Days list, a day's 307 redirect to signed storage, and
 * the storage itself (gzip JSON lines; refuses Twilio credentials, expired and forged URLs).
 * Every JSON answer, the 307 included, is validated against twilio_bulkexports_v1.json.
 */

import { gunzipSync } from 'node:zlib';
import { beforeEach, describe, expect, it } from 'vitest';

import {
  storageDownloads,
  twilioFailure,
  useEmulator,
  type SeededSubaccount,
} from '../support/emulator.js';

const DAY = 86_400_000;
/** 2026-03-15, noon UTC: the latest EndDay a job may have is 2026-03-13. */
const NOW = Date.UTC(2026, 2, 15, 12, 0, 0);
const NUMBER = '+14155550100';
const SUB_NUMBER = '+14155550200';
const USER = '+16505550101';

const OLD_DAY = '2024-10-01'; // more than 400 days back: hidden from the Messages API
const BUSY_DAY = '2026-03-05';
const QUIET_DAY = '2026-03-06'; // no messages
const at = (day: string, time: string) => `${day}T${time}Z`;

const EXPORT_KEYS = [
  'account_sid',
  'body',
  'date_created',
  'date_sent',
  'date_updated',
  'direction',
  'error_code',
  'from',
  'messaging_service_sid',
  'num_media',
  'num_segments',
  'price',
  'sid',
  'status',
  'to',
];

describe('Bulk Export (Messages)', () => {
  let clock = NOW;
  const env = useEmulator({ now: () => clock });
  let sub: SeededSubaccount;

  const parentAuth = () =>
    `Basic ${Buffer.from(`${env.parentSid}:${env.parentToken}`).toString('base64')}`;
  const messagesExport = () => env.parent.bulkexports.v1.exports('Messages');
  const createJob = (startDay: string, endDay: string, friendlyName = 'history') =>
    messagesExport().exportCustomJobs.create({ startDay, endDay, friendlyName });
  /** What `days(day).fetch()` resolves to in twilio-node 6: the raw 307 body. */
  const redirectOf = async (day: string, client = env.parent) =>
    (await client.bulkexports.v1.exports('Messages').days(day).fetch()) as unknown as {
      redirect_to: string;
    };
  const download = (url: string, headers: Record<string, string> = {}) => fetch(url, { headers });
  const lines = async (response: Response) =>
    gunzipSync(Buffer.from(await response.arrayBuffer()))
      .toString('utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  beforeEach(async () => {
    clock = NOW;
    const seeded = await env.seed({
      subaccounts: [{ friendly_name: 'Acme Dental' }],
    });
    sub = seeded.subaccounts[0]!;
    await env.seed({
      numbers: [{ phone_number: NUMBER }, { phone_number: SUB_NUMBER, account_sid: sub.sid }],
      messages: [
        // Given out of order: the file is ordered by date_sent.
        {
          from: NUMBER,
          to: USER,
          body: 'later',
          direction: 'outbound-api',
          date_sent: at(BUSY_DAY, '18:00:00'),
        },
        {
          from: USER,
          to: NUMBER,
          body: 'STOP',
          direction: 'inbound',
          date_sent: at(BUSY_DAY, '09:30:00'),
        },
        {
          from: NUMBER,
          to: USER,
          body: 'refused',
          direction: 'outbound-api',
          date_sent: at(BUSY_DAY, '23:59:59'),
          status: 'failed',
          error_code: 21610,
        },
        {
          from: USER,
          to: NUMBER,
          body: 'STOP',
          direction: 'inbound',
          date_sent: at(OLD_DAY, '08:00:00'),
        },
        {
          from: USER,
          to: SUB_NUMBER,
          body: 'hello sub',
          direction: 'inbound',
          date_sent: at(BUSY_DAY, '10:00:00'),
        },
        // Too recent for any job.
        {
          from: NUMBER,
          to: USER,
          body: 'yesterday',
          direction: 'outbound-api',
          date_sent: at('2026-03-14', '10:00:00'),
        },
      ],
    });
  });

  it('a job is Submitted, then completes after export_job_seconds: files for days with messages', async () => {
    await env.control('POST', '/__emulator/settings', { export_job_seconds: 3 });
    const created = await messagesExport().exportCustomJobs.createWithHttpInfo({
      startDay: BUSY_DAY,
      endDay: QUIET_DAY,
      friendlyName: 'March',
    });
    expect(created.statusCode).toBe(201);
    const job = created.body;
    expect(job.jobSid).toMatch(/^JS[0-9a-f]{32}$/);
    expect(job).toMatchObject({
      friendlyName: 'March',
      resourceType: 'Messages',
      startDay: BUSY_DAY,
      endDay: QUIET_DAY,
      webhookUrl: null,
      email: null,
    });
    expect(job.details).toEqual([{ status: 'Submitted', count: 2, days: [BUSY_DAY, QUIET_DAY] }]);
    // Twilio's spelling (its API definition's example `2021-03-15T20:20:14.547`): UTC, with no
    // offset written.
    expect(job.estimatedCompletionTime).toBe('2026-03-15T12:00:03.000');
    expect(await messagesExport().days.list()).toEqual([]);

    clock = NOW + 1000;
    const running = await env.parent.bulkexports.v1.exports.jobs(job.jobSid).fetch();
    expect(running.details).toEqual([{ status: 'Running', count: 2, days: [BUSY_DAY, QUIET_DAY] }]);
    expect(running.url).toBe(`https://bulkexports.twilio.com/v1/Exports/Jobs/${job.jobSid}`);

    clock = NOW + 3000;
    const done = await env.parent.bulkexports.v1.exports.jobs(job.jobSid).fetch();
    expect(done.details).toEqual([
      { status: 'Completed', count: 1, days: [BUSY_DAY] },
      { status: 'CompletedEmptyRecords', count: 1, days: [QUIET_DAY] },
    ]);
    const days = await messagesExport().days.list();
    expect(days.map((d) => d.toJSON())).toEqual([
      expect.objectContaining({
        day: BUSY_DAY,
        resourceType: 'Messages',
        createDate: '2026-03-15',
        friendlyName: 'March',
      }),
    ]);
    // A day with no messages has no file.
    expect(await twilioFailure(messagesExport().days(QUIET_DAY).fetch())).toMatchObject({
      status: 404,
      code: 20404,
    });
  });

  it("a day's file: 307 to signed storage, gzip JSON lines in date_sent order, the listed size", async () => {
    await env.control('POST', '/__emulator/settings', { export_job_seconds: 0 });
    const job = await createJob(BUSY_DAY, BUSY_DAY);
    expect(job.details).toEqual([{ status: 'Completed', count: 1, days: [BUSY_DAY] }]);

    const { redirect_to: url } = await redirectOf(BUSY_DAY);
    expect(url.startsWith(`${env.url}/__storage/`)).toBe(true);
    expect(url).toMatch(/[?&]Expires=\d+&Signature=[\w-]+$/);
    // The redirect also comes as a Location header (fetchWithHttpInfo drops the body).
    const info = await messagesExport().days(BUSY_DAY).fetchWithHttpInfo();
    expect(info.statusCode).toBe(307);
    expect(info.headers['location']).toBe(url);

    const response = await download(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/gzip');
    const bytes = Buffer.from(await response.clone().arrayBuffer());
    const records = await lines(response);
    expect(records.map((r) => r['body'])).toEqual(['STOP', 'later', 'refused']);
    for (const record of records) {
      expect(Object.keys(record).sort()).toEqual(EXPORT_KEYS);
      expect(record['account_sid']).toBe(env.parentSid);
      expect(record['date_sent']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      expect(record['date_created']).toBe(record['date_sent']);
    }
    expect(records[0]).toMatchObject({
      from: USER,
      to: NUMBER,
      direction: 'inbound',
      status: 'received',
      date_sent: at(BUSY_DAY, '09:30:00'),
      num_segments: '1',
      num_media: '0',
      error_code: null,
    });
    expect(records[2]).toMatchObject({ status: 'failed', error_code: 21610 });
    const [listed] = await messagesExport().days.list();
    expect(listed!.size).toBe(bytes.length);
    expect(await storageDownloads(env)).toEqual([
      { time: new Date(NOW).toISOString(), path: new URL(url).pathname, status: 200, reason: null },
    ]);
  });

  it('a message older than the retention window is hidden from the Messages API but in its day file', async () => {
    await env.control('POST', '/__emulator/settings', { export_job_seconds: 0 });
    const listed = await env.parent.messages.list({ to: NUMBER });
    expect(listed.map((m) => m.body)).toEqual(['STOP']); // only the March STOP
    await createJob(OLD_DAY, OLD_DAY);
    const records = await lines(await download((await redirectOf(OLD_DAY)).redirect_to));
    expect(records).toEqual([
      expect.objectContaining({ body: 'STOP', date_sent: at(OLD_DAY, '08:00:00') }),
    ]);
  });

  it('the storage refuses Twilio credentials, a forged signature and an expired URL', async () => {
    await env.control('POST', '/__emulator/settings', { export_job_seconds: 0 });
    await createJob(BUSY_DAY, BUSY_DAY);
    const { redirect_to: url } = await redirectOf(BUSY_DAY);
    const withAuth = await download(url, { authorization: parentAuth() });
    expect(withAuth.status).toBe(400);
    expect(await withAuth.text()).toContain('<Code>InvalidArgument</Code>');

    const forged = await download(url.replace(/Signature=[\w-]+/, 'Signature=forged'));
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
    const otherDay = await download(url.replace(BUSY_DAY, '2026-03-04'));
    expect(otherDay.status).toBe(403);

    clock = NOW + 901_000; // the URL is good for 15 minutes
    const expired = await download(url);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('Request has expired');
    // A fresh redirect works again.
    expect(await lines(await download((await redirectOf(BUSY_DAY)).redirect_to))).toHaveLength(3);

    const log = await storageDownloads(env);
    expect(log.map((d) => [d.status, d.reason])).toEqual([
      [400, 'authorization header'],
      [403, 'bad signature'],
      [403, 'bad signature'],
      [403, 'expired'],
      [200, null],
    ]);
    await env.control('POST', '/__emulator/reset');
    expect(await storageDownloads(env)).toEqual([]);
  });

  it("acts on the authenticated account's own history only", async () => {
    await env.control('POST', '/__emulator/settings', { export_job_seconds: 0 });
    await env.control('POST', '/__emulator/settings', {
      account_sid: sub.sid,
      export_job_seconds: 0,
    });
    const subClient = env.clientFor(sub.sid, sub.auth_token);
    const subJob = await subClient.bulkexports.v1
      .exports('Messages')
      .exportCustomJobs.create({ startDay: BUSY_DAY, endDay: BUSY_DAY, friendlyName: 'sub' });
    // The parent's credentials see neither the subaccount's job nor its files.
    expect(
      await twilioFailure(env.parent.bulkexports.v1.exports.jobs(subJob.jobSid).fetch()),
    ).toMatchObject({ status: 404, code: 20404 });
    expect(await messagesExport().exportCustomJobs.list()).toEqual([]);
    expect(await messagesExport().days.list()).toEqual([]);

    const subRecords = await lines(
      await download((await redirectOf(BUSY_DAY, subClient)).redirect_to),
    );
    expect(subRecords.map((r) => [r['account_sid'], r['body']])).toEqual([[sub.sid, 'hello sub']]);

    await createJob(BUSY_DAY, BUSY_DAY);
    const parentRecords = await lines(await download((await redirectOf(BUSY_DAY)).redirect_to));
    expect(parentRecords.every((r) => r['account_sid'] === env.parentSid)).toBe(true);
    expect(parentRecords).toHaveLength(3);
  });

  it.each([
    [{ startDay: '2026-03-01', endDay: '2026-03-14' }, /2 days earlier/],
    [{ startDay: '2026-03-10', endDay: '2026-03-01' }, /after EndDay/],
    [{ startDay: '2025-02-30', endDay: '2025-03-01' }, /Invalid StartDay/],
    [{ startDay: '2025-03-01', endDay: '03/02/2025' }, /Invalid EndDay/],
  ])('refuses %j with 400 / 20001', async (days, message) => {
    const failure = await twilioFailure(
      messagesExport().exportCustomJobs.create({ ...days, friendlyName: 'bad' }),
    );
    expect(failure).toMatchObject({ status: 400, code: 20001 });
    expect(failure.message).toMatch(message);
  });

  it('needs FriendlyName, and WebhookUrl with WebhookMethod or neither', async () => {
    // The SDK insists on FriendlyName itself; the emulator does too.
    const response = await fetch(`${env.url}/v1/Exports/Messages/Jobs`, {
      method: 'POST',
      headers: {
        authorization: parentAuth(),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ StartDay: BUSY_DAY, EndDay: BUSY_DAY }).toString(),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 20001, message: /FriendlyName/ });
    expect(
      await twilioFailure(
        messagesExport().exportCustomJobs.create({
          startDay: BUSY_DAY,
          endDay: BUSY_DAY,
          friendlyName: 'hook',
          webhookUrl: 'https://hooks.example.com/export',
        }),
      ),
    ).toMatchObject({ status: 400, code: 20001 });
    const job = await messagesExport().exportCustomJobs.create({
      startDay: BUSY_DAY,
      endDay: BUSY_DAY,
      friendlyName: 'hook',
      webhookUrl: 'https://hooks.example.com/export',
      webhookMethod: 'POST',
      email: 'ops@example.com',
    });
    expect(job).toMatchObject({
      webhookUrl: 'https://hooks.example.com/export',
      webhookMethod: 'POST',
      email: 'ops@example.com',
    });
  });

  it('lists and deletes jobs; a deleted job is 404, the files it made stay', async () => {
    await env.control('POST', '/__emulator/settings', { export_job_seconds: 0 });
    const first = await createJob(OLD_DAY, OLD_DAY, 'old');
    const second = await createJob(BUSY_DAY, QUIET_DAY, 'recent');
    const jobs = await messagesExport().exportCustomJobs.list();
    expect(jobs.map((j) => [j.jobSid, j.friendlyName])).toEqual([
      [first.jobSid, 'old'],
      [second.jobSid, 'recent'],
    ]);
    const removed = await env.parent.bulkexports.v1.exports.jobs(first.jobSid).removeWithHttpInfo();
    expect(removed.statusCode).toBe(204);
    expect(
      await twilioFailure(env.parent.bulkexports.v1.exports.jobs(first.jobSid).fetch()),
    ).toMatchObject({ status: 404, code: 20404 });
    expect((await messagesExport().exportCustomJobs.list()).map((j) => j.jobSid)).toEqual([
      second.jobSid,
    ]);
    expect((await messagesExport().days.list()).map((d) => d.day)).toEqual([OLD_DAY, BUSY_DAY]);
  });

  it('pages the Days list (PageSize at most 400) and drops files after 7 days', async () => {
    await env.control('POST', '/__emulator/settings', { export_job_seconds: 0 });
    await createJob(OLD_DAY, OLD_DAY);
    await createJob(BUSY_DAY, BUSY_DAY);
    const first = await messagesExport().days.page({ pageSize: 1 });
    expect(first.instances.map((d) => d.day)).toEqual([OLD_DAY]);
    const second = await first.nextPage();
    expect(second!.instances.map((d) => d.day)).toEqual([BUSY_DAY]);
    expect(second!.nextPageUrl).toBeUndefined();
    const big = await fetch(`${env.url}/v1/Exports/Messages/Days?PageSize=1000`, {
      headers: {
        authorization: parentAuth(),
      },
    });
    expect(((await big.json()) as { meta: { page_size: number } }).meta.page_size).toBe(400);

    clock = NOW + 7 * DAY;
    expect(await messagesExport().days.list()).toEqual([]);
    expect(await twilioFailure(redirectOf(BUSY_DAY))).toMatchObject({ status: 404 });
  });

  it('a day set to fail: the next job holding it shows it Failed and makes no file; the one after completes it', async () => {
    await env.control('POST', '/__emulator/settings', { export_job_seconds: 3 });
    const set = await env.control('POST', '/__emulator/export-failures', {
      days: [BUSY_DAY],
      jobs: 1,
    });
    expect(set).toEqual([{ account_sid: env.parentSid, day: BUSY_DAY, status: 'Failed', jobs: 1 }]);
    const failing = await createJob(BUSY_DAY, QUIET_DAY);
    // Given to the job as it was created: the next job is not set to fail.
    expect(await env.control('GET', '/__emulator/export-failures')).toEqual([]);
    const second = await createJob(BUSY_DAY, BUSY_DAY);
    // Until it completes, the job runs as any other.
    expect(failing.details).toEqual([
      { status: 'Submitted', count: 2, days: [BUSY_DAY, QUIET_DAY] },
    ]);

    clock = NOW + 3000;
    const failed = await env.parent.bulkexports.v1.exports.jobs(failing.jobSid).fetch();
    expect(failed.details).toEqual([
      { status: 'Failed', count: 1, days: [BUSY_DAY] },
      { status: 'CompletedEmptyRecords', count: 1, days: [QUIET_DAY] },
    ]);
    const completed = await env.parent.bulkexports.v1.exports.jobs(second.jobSid).fetch();
    expect(completed.details).toEqual([{ status: 'Completed', count: 1, days: [BUSY_DAY] }]);
    expect((await messagesExport().days.list()).map((d) => d.day)).toEqual([BUSY_DAY]);
  });

  it('a day set to fail in every job, with the status given, in one account only; the setting is checked', async () => {
    await env.control('POST', '/__emulator/export-failures', {
      days: [BUSY_DAY],
      status: 'ErrorDuringRun',
    });
    for (const _ of [1, 2]) {
      const job = await createJob(BUSY_DAY, BUSY_DAY);
      const fetched = await env.parent.bulkexports.v1.exports.jobs(job.jobSid).fetch();
      expect(fetched.details).toEqual([{ status: 'ErrorDuringRun', count: 1, days: [BUSY_DAY] }]);
    }
    expect(await messagesExport().days.list()).toEqual([]);
    // The subaccount's own history is not set to fail.
    const subExport = env.clientFor(sub.sid, sub.auth_token).bulkexports.v1.exports('Messages');
    const subJob = await subExport.exportCustomJobs.create({
      startDay: BUSY_DAY,
      endDay: BUSY_DAY,
      friendlyName: 'sub',
    });
    expect(subJob.details).toEqual([{ status: 'Completed', count: 1, days: [BUSY_DAY] }]);
    expect(await env.control('GET', '/__emulator/export-failures')).toEqual([
      { account_sid: env.parentSid, day: BUSY_DAY, status: 'ErrorDuringRun', jobs: null },
    ]);
    await env.control('DELETE', '/__emulator/export-failures');
    const job = await createJob(BUSY_DAY, BUSY_DAY);
    expect(job.details).toEqual([{ status: 'Completed', count: 1, days: [BUSY_DAY] }]);

    for (const [body, error] of [
      [{ days: [] }, /days must be a list/],
      [{ days: ['2024-13-01'] }, /days must be a list/],
      [{ days: [BUSY_DAY], status: 'Completed' }, /status must be one of Failed, ErrorDuringRun/],
      [{ days: [BUSY_DAY], jobs: 0 }, /jobs must be a whole number/],
      [{ days: [BUSY_DAY], dayz: 1 }, /unknown field \W+dayz/],
      [{ days: [BUSY_DAY], account_sid: 'AC0' }, /no account \W+AC0/],
    ] as const) {
      await expect(env.control('POST', '/__emulator/export-failures', body)).rejects.toThrow(error);
    }
  });

  it('other resource types are not found', async () => {
    expect(
      await twilioFailure(env.parent.bulkexports.v1.exports('Calls').days.list()),
    ).toMatchObject({ status: 404, code: 20404 });
  });
});
