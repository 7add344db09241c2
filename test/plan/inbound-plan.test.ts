/**
 * Keeping inbound routes through the move, decided purely from what was observed: the new
 * service copies the service the numbers leave, or defers to their own webhooks; a number
 * leaving a service for none gets the service's URL; what one service cannot give is a
 * problem; a reused service that would lose a route, and a route already dropped, are said.
 */

import { describe, expect, it } from 'vitest';

import { planRouting } from '../../src/plan/inbound-plan.js';
import { describeRoute } from '../../src/plan/routes.js';
import type { ObservedNumber, ObservedService } from '../../src/plan/types.js';
import type { ServiceSettings } from '../../src/twilio/port.js';

const DEFAULTS: ServiceSettings = {
  inbound_request_url: null,
  inbound_method: 'POST',
  fallback_url: null,
  fallback_method: 'POST',
  status_callback: null,
  sticky_sender: true,
  smart_encoding: true,
  mms_converter: true,
  validity_period: 36000,
  usecase: 'undeclared',
  area_code_geomatch: true,
  scan_message_content: 'inherit',
  use_inbound_webhook_on_number: false,
};
const service = (sid: string, settings: Partial<ServiceSettings>): ObservedService => ({
  sid,
  accountSid: 'ACparent',
  friendlyName: sid,
  settings: { ...DEFAULTS, ...settings },
});
const number = (
  sid: string,
  smsUrl: string | null,
  serviceSid: string | null = null,
): ObservedNumber => ({
  sid,
  phoneNumber: `+1415555${sid.slice(-4)}`,
  accountSid: 'ACparent',
  type: 'local',
  serviceSid,
  smsUrl,
  smsMethod: smsUrl === null ? null : 'POST',
});

const SHARED = service('MGshared', {
  inbound_request_url: 'https://app/shared',
  status_callback: 'https://app/status',
});
const DEFERRING = service('MGdefer', {
  inbound_request_url: 'https://app/fallback',
  use_inbound_webhook_on_number: true,
});
const NAME_ONLY = service('MGname', {});
const services = new Map([SHARED, DEFERRING, NAME_ONLY].map((s) => [s.sid, s]));
const moving = (...numbers: ObservedNumber[]) =>
  numbers.map((n) => ({ number: n, inPlace: false }));
const after = (routing: ReturnType<typeof planRouting>, sid: string) =>
  describeRoute(routing.routes.get(sid)!.after);

describe('planRouting', () => {
  it('a new service copies the settings of the one service its numbers leave', () => {
    const r = planRouting(moving(number('PN0001', 'https://app/own1', 'MGshared')), services, {
      wantsService: true,
      existing: null,
    });
    expect(r.problem).toBeNull();
    expect(r.settings).toMatchObject({
      inbound_request_url: 'https://app/shared',
      status_callback: 'https://app/status',
      use_inbound_webhook_on_number: false,
    });
    expect(after(r, 'PN0001')).toBe('POST https://app/shared (service MG(new))');
    expect(r.lost).toEqual([]);
  });

  it('numbers that answered on their own URLs get a service that defers to them', () => {
    const r = planRouting(
      moving(number('PN0002', 'https://app/own2'), number('PN0003', null)),
      services,
      {
        wantsService: true,
        existing: null,
      },
    );
    expect(r.settings).toEqual({ use_inbound_webhook_on_number: true });
    expect(after(r, 'PN0002')).toBe('POST https://app/own2 (number)');
    expect(after(r, 'PN0003')).toBe('no webhook (logged only)');
  });

  it('copying a deferring service keeps both kinds of route it gave', () => {
    const r = planRouting(
      moving(number('PN0004', 'https://app/own4', 'MGdefer'), number('PN0005', null, 'MGdefer')),
      services,
      { wantsService: true, existing: null },
    );
    expect(r.problem).toBeNull();
    expect(after(r, 'PN0004')).toBe('POST https://app/own4 (number)');
    expect(after(r, 'PN0005')).toBe('POST https://app/fallback (service MG(new))');
  });

  it('a service URL and a number URL that one service cannot both give: a problem', () => {
    const r = planRouting(
      moving(
        number('PN0006', 'https://app/own6', 'MGshared'),
        number('PN0007', 'https://app/own7'),
      ),
      services,
      { wantsService: true, existing: null },
    );
    expect(r.problem).toMatch(/^one Messaging Service cannot give its numbers both routes/);
    // What to do next, as for services whose settings differ.
    expect(r.problem).toMatch(/: leave its messaging_service empty in the mapping and plan again/);
  });

  it('numbers split over two services that route alike (the 400-number pool) share one copy', () => {
    const twin = service('MGtwin', {
      inbound_request_url: 'https://app/shared',
      status_callback: 'https://app/status',
    });
    const r = planRouting(
      moving(number('PN0012', null, 'MGshared'), number('PN0013', null, 'MGtwin')),
      new Map([...services, [twin.sid, twin]]),
      { wantsService: true, existing: null },
    );
    expect(r.problem).toBeNull();
    expect(r.settings).toMatchObject({ inbound_request_url: 'https://app/shared' });
    expect(r.lost).toEqual([]);
  });

  it('two services with the same inbound URL but other settings that differ: a problem naming them', () => {
    const other = service('MGother', {
      inbound_request_url: 'https://app/shared',
      status_callback: 'https://app/status-b',
    });
    const r = planRouting(
      moving(number('PN0016', null, 'MGshared'), number('PN0017', null, 'MGother')),
      new Map([...services, [other.sid, other]]),
      { wantsService: true, existing: null },
    );
    expect(r.problem).toMatch(
      /^its numbers leave 2 Messaging Services whose settings differ \(status_callback\)/,
    );
    expect(r.problem).toMatch(/: make those settings alike in the services it leaves/);
  });

  it('numbers on their own URLs leaving two deferring services: their other settings are copied, or differ', () => {
    const deferA = service('MGdeferA', {
      use_inbound_webhook_on_number: true,
      status_callback: 'https://app/status-a',
    });
    const deferB = service('MGdeferB', {
      use_inbound_webhook_on_number: true,
      status_callback: 'https://app/status-b',
    });
    const alike = service('MGdeferC', {
      use_inbound_webhook_on_number: true,
      status_callback: 'https://app/status-a',
    });
    const all = new Map([deferA, deferB, alike].map((s) => [s.sid, s]));
    const same = planRouting(
      moving(
        number('PN0020', 'https://app/own20', 'MGdeferA'),
        number('PN0021', 'https://app/own21', 'MGdeferC'),
      ),
      all,
      { wantsService: true, existing: null },
    );
    expect(same.problem).toBeNull();
    expect(same.settings).toMatchObject({
      status_callback: 'https://app/status-a',
      use_inbound_webhook_on_number: true,
    });
    const differ = planRouting(
      moving(
        number('PN0022', 'https://app/own22', 'MGdeferA'),
        number('PN0023', 'https://app/own23', 'MGdeferB'),
      ),
      all,
      { wantsService: true, existing: null },
    );
    expect(differ.problem).toMatch(
      /^its numbers leave 2 Messaging Services whose settings differ \(status_callback\)/,
    );
    // It says what to do about it.
    expect(differ.problem).toMatch(
      /: make those settings alike in the services it leaves and plan again, or leave its messaging_service empty/,
    );
  });

  it('numbers on their own URLs leaving deferring services that differ only in fallbacks: no problem', () => {
    // A service that defers to its numbers calls their URLs, and their fallbacks, never its
    // own: fallback_url and fallback_method route none of these numbers.
    const withFallback = service('MGdeferF', {
      use_inbound_webhook_on_number: true,
      fallback_url: 'https://app/service-fallback',
      fallback_method: 'GET',
    });
    const without = service('MGdeferG', { use_inbound_webhook_on_number: true });
    const r = planRouting(
      moving(
        number('PN0030', 'https://app/own30', 'MGdeferF'),
        number('PN0031', 'https://app/own31', 'MGdeferG'),
      ),
      new Map([withFallback, without].map((s) => [s.sid, s])),
      { wantsService: true, existing: null },
    );
    expect(r.problem).toBeNull();
    expect(r.settings.use_inbound_webhook_on_number).toBe(true);
    expect(r.settings.fallback_url).toBeUndefined();
    expect(after(r, 'PN0030')).toBe('POST https://app/own30 (number)');
    expect(r.lost).toEqual([]);
  });

  it('a number whose own URL is the service URL its neighbours answer at is no conflict', () => {
    const r = planRouting(
      moving(number('PN0014', null, 'MGshared'), number('PN0015', 'https://app/shared')),
      services,
      { wantsService: true, existing: null },
    );
    expect(r.problem).toBeNull();
    expect(after(r, 'PN0015')).toBe('POST https://app/shared (service MG(new))');
    expect(r.lost).toEqual([]);
  });

  it('leaving a service for none: the number gets the service URL as its own', () => {
    const r = planRouting(moving(number('PN0008', 'https://app/own8', 'MGshared')), services, {
      wantsService: false,
      existing: null,
    });
    expect([...r.webhooks]).toEqual([
      ['PN0008', { url: 'https://app/shared', method: 'POST', fallback: null }],
    ]);
    expect(after(r, 'PN0008')).toBe('POST https://app/shared (number)');
  });

  it('a number already on the service URL still takes the service fallback when it leaves for none', () => {
    const withFallback = service('MGfallback', {
      inbound_request_url: 'https://app/shared',
      fallback_url: 'https://app/shared-fallback',
    });
    const r = planRouting(
      moving(number('PN0018', 'https://app/shared', 'MGfallback')),
      new Map([[withFallback.sid, withFallback]]),
      { wantsService: false, existing: null },
    );
    expect([...r.webhooks]).toEqual([
      [
        'PN0018',
        {
          url: 'https://app/shared',
          method: 'POST',
          fallback: { url: 'https://app/shared-fallback', method: 'POST' },
        },
      ],
    ]);
    // One that has that fallback already needs nothing.
    const has = { ...number('PN0019', 'https://app/shared', 'MGfallback') };
    const done = planRouting(
      moving({ ...has, smsFallback: { url: 'https://app/shared-fallback', method: 'POST' } }),
      new Map([[withFallback.sid, withFallback]]),
      { wantsService: false, existing: null },
    );
    expect(done.webhooks.size).toBe(0);
    // The same URL as another of its webhooks (its voice fallback) is not its SMS fallback.
    const voiceOnly = planRouting(
      moving({ ...has, otherWebhooks: ['https://app/shared-fallback'] }),
      new Map([[withFallback.sid, withFallback]]),
      { wantsService: false, existing: null },
    );
    expect([...voiceOnly.webhooks.keys()]).toEqual(['PN0019']);
  });

  it('a number already on the service URL takes the service fallback when it joins a reused service that defers to numbers', () => {
    // Twilio calls the number's own fallback there: the service's would be lost.
    const withFallback = service('MGfallback', {
      inbound_request_url: 'https://app/shared',
      fallback_url: 'https://app/shared-fallback',
    });
    const reused = { ...DEFERRING, sid: 'MGreused', accountSid: 'ACsub' };
    const all = new Map([withFallback, reused].map((s) => [s.sid, s]));
    const r = planRouting(moving(number('PN0024', 'https://app/shared', 'MGfallback')), all, {
      wantsService: true,
      existing: reused,
    });
    expect([...r.webhooks]).toEqual([
      [
        'PN0024',
        {
          url: 'https://app/shared',
          method: 'POST',
          fallback: { url: 'https://app/shared-fallback', method: 'POST' },
        },
      ],
    ]);
    expect(r.lost).toEqual([]);
    // One that has that fallback already needs nothing.
    const has = {
      ...number('PN0025', 'https://app/shared', 'MGfallback'),
      smsFallback: { url: 'https://app/shared-fallback', method: 'POST' },
    };
    expect(
      planRouting(moving(has), all, { wantsService: true, existing: reused }).webhooks.size,
    ).toBe(0);
  });

  it('a reused service that would drop a route says so; a route dropped before is noted', () => {
    const r = planRouting(
      moving(number('PN0009', 'https://app/own9'), number('PN0010', 'https://app/own10', 'MGname')),
      services,
      { wantsService: true, existing: NAME_ONLY },
    );
    expect(r.problem).toBeNull();
    expect(r.lost).toEqual(['+14155550009']);
    expect(r.droppedBefore).toEqual(['+14155550010']);
  });

  it('a reused service that defers to its numbers: a number it would divert takes its route as its own sms_url', () => {
    const reused = { ...DEFERRING, sid: 'MGreused', accountSid: 'ACsub' };
    const r = planRouting(
      moving(
        // Answered on the shared service's URL; its own sms_url was never called.
        number('PN0012', 'https://app/own12', 'MGshared'),
        number('PN0013', null, 'MGshared'),
        // Answered on its own URL: the deferring service keeps that as it is.
        number('PN0014', 'https://app/own14'),
      ),
      services,
      { wantsService: true, existing: reused },
    );
    expect(r.problem).toBeNull();
    expect(r.lost).toEqual([]);
    expect([...r.webhooks]).toEqual([
      ['PN0012', { url: 'https://app/shared', method: 'POST', fallback: null }],
      ['PN0013', { url: 'https://app/shared', method: 'POST', fallback: null }],
    ]);
    expect(after(r, 'PN0012')).toBe('POST https://app/shared (number)');
    expect(after(r, 'PN0014')).toBe('POST https://app/own14 (number)');
  });

  it('a reused service that does not defer to its numbers is not given their webhooks', () => {
    const reused = { ...NAME_ONLY, sid: 'MGreused', accountSid: 'ACsub' };
    const r = planRouting(moving(number('PN0015', null, 'MGshared')), services, {
      wantsService: true,
      existing: reused,
    });
    expect(r.webhooks.size).toBe(0);
    expect(r.lost).toEqual(['+14155550015']);
  });

  it('a logged number (no URL) that a reused service would drop has lost its route', () => {
    const r = planRouting(moving(number('PN0011', null)), services, {
      wantsService: true,
      existing: NAME_ONLY,
    });
    // Before, Twilio logged its inbound (a STOP there reaches the snapshot); after, not even that.
    expect(after(r, 'PN0011')).toBe('dropped (service MGname has no inbound URL)');
    expect(r.lost).toEqual(['+14155550011']);
  });
});
