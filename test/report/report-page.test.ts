import { describe, expect, it } from 'vitest';

import { describeLeftover } from '../../src/apply/leftovers.js';
import { PAGE_LIST_ROWS, reportPage } from '../../src/report/report-page.js';
import { EVIL, reportInput as input } from '../support/report-page-input.js';

describe('report.html', () => {
  it('escapes everything that came from Twilio or the mapping', () => {
    const page = reportPage(input());
    expect(page).not.toContain(EVIL);
    expect(page).not.toContain('<img');
    expect(page).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    // One script element: the page's own.
    expect(page.match(/<script/g)).toHaveLength(1);
  });

  it('loads nothing: a CSP forbidding fetches, no external src or href', () => {
    const page = reportPage(input());
    expect(page).toContain(
      `http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;`,
    );
    // No element of the page has a src or href at all (the hostile text is only text).
    expect(page).not.toMatch(/<[a-z][^<>]*\s(src|href)\s*=/i);
    expect(page).not.toMatch(/<link\b/);
  });

  it('says where a number this run did not check routes now is not known, not nothing', () => {
    // A customer's second number already in its subaccount (or whose move failed): the
    // routing check read only the first. The cell said "now:" with nothing, or the first's
    // route alone, as if it were every number's.
    const base = input();
    const checked = base.rows[0]!;
    const unchecked = {
      ...checked,
      phone_number: '+15550000002',
      phone_number_sid: 'PN' + '2'.repeat(32),
      status: 'unchanged',
      inbound_route_before: 'POST https://app.example/sms (number)',
      inbound_route_after: null,
    };
    const route = (rows: (typeof checked)[]) =>
      /<td class="route">([\s\S]*?)<\/td>/.exec(reportPage({ ...base, rows }))![1]!;
    expect(route([unchecked])).toMatch(/now:<\/span>\s*not checked by this run<br \/>/);
    expect(route([checked, unchecked])).toMatch(
      /now:<\/span>\s*webhook .*<br>not checked by this run<br \/>/,
    );
  });

  it("counts only this run's customers' refused sends in the headline figure", () => {
    const page = reportPage(
      input({
        blocked: new Map([
          ['acme', 2],
          ['someone-else', 5],
        ]),
      }),
    );
    expect(page).toMatch(
      /data-figure="blocked">\s*<span class="value">2<\/span><span class="label">sends Twilio refused \(21610\)/,
    );
  });

  it('says that records carried into Twilio and rows of a list are not the same count', () => {
    const page = reportPage(input({ carry: new Map([['acme', { to_carry: 2, written: 2 }]]) }));
    // A reviewer seeing 198 carried beside 99 on the list must not read it as more carried
    // than listed: the heading names records, and the page says what each figure counts.
    expect(page).toMatch(/<th [^>]*>\s*records carried into Twilio\s*<\/th>/);
    expect(page).toMatch(/one for each recipient and sender/);
    expect(page).toMatch(/need not be equal/);
  });

  it('calls the list figure what it counts: rows, not people', () => {
    // One person who said STOP to two of the customer's numbers: two rows of its list.
    const base = input();
    const row = base.optouts!.rows[0]!;
    const page = reportPage({
      ...base,
      optouts: {
        ...base.optouts!,
        rows: [row, { ...row, sender_number: '+15550000002', evidence_message_sid: 'SM2' }],
      },
    });
    expect(page).toMatch(
      /data-figure="optouts">\s*<span class="value">2<\/span><span class="label">rows on the suppression lists \(one per opted-out pair and customer\)<\/span>/,
    );
  });

  it('says per customer what protects its opt-outs, and how many Twilio does not refuse', () => {
    // A customer whose records were all written but who has a toll-free number: "144 / 144
    // carried" alone reads as protected, and its sends from the toll-free number are not.
    const page = reportPage(
      input({
        carry: new Map([['acme', { to_carry: 3, written: 3 }]]),
        protection: new Map([
          [
            'acme',
            {
              rows: 3,
              enforced: 1,
              protection:
                'Twilio refuses sends to 1 of the 3 rows of its suppression list; for the other 2, the list is the only protection (the Consent Management API does not cover its toll-free numbers)',
            },
          ],
          ['someone-else', { rows: 9, enforced: 0, protection: 'not this run' }],
        ]),
      }),
    );
    expect(page).toMatch(/<th [^>]*>\s*what protects its opt-outs\s*<\/th>/);
    expect(page).toMatch(
      /<td class="bad">Twilio refuses sends to 1 of the 3 rows of its suppression list[^<]*does not cover its toll-free numbers\)<\/td>/,
    );
    // This run's customers only, as the other figures count them.
    expect(page).toMatch(
      /data-figure="list-only">\s*<span class="value">2<\/span><span class="label">rows of the lists Twilio does not refuse/,
    );
    expect(page).toMatch(/class="figure alarm" data-figure="list-only"/);
  });

  it('shows a customer whose every opt-out Twilio refuses as such, not in red', () => {
    const words =
      'Twilio refuses sends to every opt-out on its suppression list (written through the Consent Management API)';
    const page = reportPage(
      input({ protection: new Map([['acme', { rows: 1, enforced: 1, protection: words }]]) }),
    );
    expect(page).toContain(`<td>${words}</td>`);
    expect(page).toMatch(/class="figure" data-figure="list-only">\s*<span class="value">0</);
  });

  it('does not count a customer whose list is not known as one Twilio protects', () => {
    // Its rows are not known, so neither is how many of them Twilio does not refuse: a plain
    // 0 beside it would read as every opt-out refused.
    const page = reportPage(
      input({
        protection: new Map([
          ['acme', { rows: null, enforced: null, protection: 'its suppression list is not known' }],
        ]),
      }),
    );
    expect(page).toMatch(
      /class="figure alarm" data-figure="list-only">\s*<span class="value">0<\/span><span class="label">rows of the lists Twilio does not refuse \(lists of 1 customer\(s\) not known\)/,
    );
  });

  it('says what it cannot vouch for instead of showing empty figures', () => {
    const page = reportPage(
      input({ optouts: null, violations: null, blocked: null, lastReconcileAt: null }),
    );
    expect(page).toContain('No completed snapshot');
    expect(page).toContain('Reconcile has not run');
    expect(page).toMatch(/data-figure="violations">\s*<span class="value">not reconciled/);
    expect(page).toMatch(/data-figure="optouts">\s*<span class="value">not known/);
    // A customer's row too: its refused sends and its violations are not known, not blank.
    const row = /<table id="customers"[\s\S]*?<tbody>([\s\S]*?)<\/tr>/.exec(page)?.[1] ?? '';
    expect(row.match(/<td class="num">not reconciled<\/td>/g)).toHaveLength(2);
  });

  it('says, under "Not read", when runs read under older keyword rules no longer count', () => {
    const base = input();
    const coverage = {
      ...base.optouts!.coverage,
      not_read: [
        {
          account_sid: 'AC' + '0'.repeat(32),
          start: '2024-01-01T00:00:00Z',
          end: '2025-01-01T00:00:00Z',
        },
      ],
      older_rules_runs: 2,
    };
    const page = reportPage({ ...base, optouts: { ...base.optouts!, coverage } }).replace(
      /\s+/g,
      ' ',
    );
    expect(page).toMatch(
      /<h3>Not read<\/h3>[\s\S]*2 completed snapshot run\(s\) of this database were read by an older submigrate/,
    );
    expect(reportPage(base)).not.toContain('older submigrate');
  });

  it('says, in red, which opt-outs it could place on no number’s list', () => {
    const base = input();
    const coverage = {
      ...base.optouts!.coverage,
      not_placed: [
        {
          account_sid: 'AC' + '0'.repeat(32),
          sender: 'rcs:brand_agent',
          messaging_service_sid: null,
          recipient: '+12065550004',
          channel: 'rcs',
          evidence_message_sid: 'SM' + 'b'.repeat(32),
        },
      ],
    };
    const page = reportPage({ ...base, optouts: { ...base.optouts!, coverage } }).replace(
      /\s+/g,
      ' ',
    );
    expect(page).toMatch(
      /<p class="bad"> \+12065550004 opted out of rcs:brand_agent \(rcs, SMb{32}, AC0{32}\), which is no phone number, and the evidence came through no Messaging Service: it is on no customer's list here/,
    );
    expect(reportPage(base)).not.toContain('no phone number');
  });

  it('highlights violations with both SIDs and times', () => {
    const page = reportPage(
      input({
        violations: [
          {
            recipient: '+15557770001',
            sender_number: '+15550000001',
            messaging_service_sid: 'MG' + '1'.repeat(32),
            customer_id: 'acme',
            stop_message_sid: 'SM' + 'a'.repeat(32),
            opted_out_at: '2026-10-01T00:00:00Z',
            violating_message_sid: 'SM' + 'b'.repeat(32),
            sent_at: '2026-11-02T00:00:00Z',
            account_sid: 'AC' + '1'.repeat(32),
            status: 'delivered',
            evidence: 'keyword',
            evidence_message_sid: 'SM' + 'a'.repeat(32),
          },
        ],
      }),
    );
    // A time may break before its T (a <wbr>, no character): the text is the same.
    const violation = page.slice(page.indexOf('<table id="violations"')).replaceAll('<wbr>', '');
    expect(violation).toMatch(/<tr class="violation">/);
    for (const text of [
      'SM' + 'a'.repeat(32),
      'SM' + 'b'.repeat(32),
      '2026-10-01T00:00:00Z',
      '2026-11-02T00:00:00Z',
    ])
      expect(violation).toContain(text);
    expect(page).toMatch(/data-figure="violations">\s*<span class="value">1/);
    expect(page).toContain('1 message(s) went to people who had opted out');
  });

  it('shows a number found already as planned (skipped) as fine, and one that failed as not', () => {
    const base = input();
    const statuses = ['skipped', 'failed', 'not_run', 'done', 'in_flight', 'pending'] as const;
    const page = reportPage({
      ...base,
      rows: statuses.map((status, i) => ({
        ...base.rows[0]!,
        phone_number: `+1555000000${i}`,
        status,
      })),
    });
    expect(page).toContain('<td class="ok">skipped</td>');
    expect(page).toContain('<td class="ok">done</td>');
    expect(page).toContain('<td class="bad">failed</td>');
    // In the words apply's summary and `status` use, not the journal's names audit.csv keeps.
    expect(page).toContain('<td class="bad">not run</td>');
    expect(page).toContain('<td class="bad">in flight</td>');
    expect(page).toContain('<td class="bad">not sent yet</td>');
    expect(page).not.toMatch(/<td[^>]*>(not_run|in_flight|pending)<\/td>/);
  });

  it('a stopped run says its apply may have ended on an error, as one that writes the page does', () => {
    // An apply that ends on an error after its run began (its routing check could not reach
    // Twilio) writes this page itself: "killed, or crashed" alone would be untrue of it.
    const base = input();
    const page = reportPage({
      ...base,
      document: { ...base.document, run: { ...base.document.run, status: 'stopped' } },
    }).replace(/\s+/g, ' ');
    expect(page).toContain(
      'stopped before it finished (its apply was killed, crashed, or ended on an error it printed)',
    );
  });
});

describe('report.html: what the reviewer is asked to sign off', () => {
  /** The block, its tags gone and its spaces folded, as a reviewer reads it. */
  const block = (page: string) => {
    const html = /<section\s+class="signoff[\s\S]*?<\/section>/.exec(page)?.[0] ?? '';
    return html
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .replace(/ ([.,:;)])/g, '$1');
  };
  const verdict = (page: string) => /data-signoff="([a-z-]+)"/.exec(page)?.[1];

  it('comes first, before any note or figure', () => {
    const page = reportPage(input({ violations: null }));
    const at = page.indexOf('data-signoff=');
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(page.indexOf('class="note'));
    expect(at).toBeLessThan(page.indexOf('data-figure='));
  });

  it('names the subaccounts a later wave moved its numbers out of, not the parent alone', () => {
    const base = input();
    const [row] = base.rows;
    const sub = (c: string) => 'AC' + c.repeat(32);
    const page = reportPage({
      ...base,
      rows: [
        { ...row!, from_account_sid: sub('2') },
        { ...row!, phone_number: '+15550000002', from_account_sid: sub('3') },
      ],
    });
    const all = page
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .replace(/ ([.,:;)·])/g, '$1');
    expect(block(page)).toContain(
      `2 of 2 phone number(s) moved out of subaccount(s) ${sub('2')}, ${sub('3')} into 1 subaccount(s)`,
    );
    expect(all).toContain(`Numbers moved out of subaccount(s) ${sub('2')}, ${sub('3')}·`);
    expect(all).toContain(`numbers moved out of subaccount(s) ${sub('2')}, ${sub('3')}, started`);
    expect(all).not.toContain('moved out of the parent account');
    // Some from the parent, some from a subaccount: both named, the parent first.
    const mixed = reportPage({
      ...base,
      rows: [row!, { ...row!, phone_number: '+15550000002', from_account_sid: sub('2') }],
    });
    expect(block(mixed)).toContain(
      `moved out of the parent account ${sub('0')} and subaccount(s) ${sub('2')} into`,
    );
  });

  it('says ready, and what signing confirms, from the run’s own figures', () => {
    const page = reportPage(
      input({
        protection: new Map([['acme', { rows: 1, enforced: 1, protection: 'Twilio refuses…' }]]),
      }),
    );
    expect(verdict(page)).toBe('ready');
    const text = block(page);
    expect(text).toContain('Ready to sign off: the move finished and every list is whole.');
    expect(text).toContain('By signing you confirm that:');
    expect(text).toContain(
      `1 of 1 phone number(s) moved out of the parent account AC${'0'.repeat(32)} into 1 subaccount(s), one per customer (1 customer(s) in this run).`,
    );
    expect(text).toContain('its suppression list');
    expect(text).toContain('1 opt-out(s) in all');
    expect(text).toContain('Twilio itself refuses every send to the people on these lists');
    expect(text).toContain(
      'Nobody on a suppression list has been texted since the move (checked up to 2026-11-01T00:03:00Z).',
    );
    expect(text).toContain('What follows if you sign');
    expect(text).not.toContain('NOT ready');
  });

  it('says in red how many opt-outs only the customer’s application protects, without holding the sign-off back', () => {
    const page = reportPage(
      input({ protection: new Map([['acme', { rows: 1, enforced: 0, protection: 'only' }]]) }),
    );
    expect(verdict(page)).toBe('ready');
    expect(page).toMatch(
      /<span class="bad"\s*>Twilio does not refuse sends to 1 of these opt-outs/,
    );
  });

  it('does not say every number moved of a run some of whose numbers were already in place', () => {
    const base = input();
    const moved = base.rows[0]!;
    const inPlace = {
      ...moved,
      phone_number: '+15550000002',
      phone_number_sid: 'PN' + '2'.repeat(32),
      status: 'unchanged',
    };
    const page = reportPage({
      ...base,
      rows: [moved, inPlace],
      document: {
        ...base.document,
        run: { ...base.document.run, status: 'failed' },
        steps: [
          {
            id: 'carry_optouts:acme',
            action: 'carry_optouts',
            customer_id: 'acme',
            state: 'failed',
            attempts: 1,
            started_at: null,
            finished_at: null,
            twilio: null,
            error: { status: 403, code: 20403, message: 'no access' },
          },
        ],
      },
    });
    const text = block(page);
    expect(text).toMatch(
      /The run is not finished: [^;]+; 1 step\(s\) failed, though every number is in its subaccount \(1 moved, 1 already there\)\./,
    );
    expect(text).not.toContain('every number moved');
  });

  it('says the move is not ready while the run is not finished, and what to do', () => {
    const base = input();
    for (const status of ['stopped', 'running', 'failed']) {
      const page = reportPage({
        ...base,
        document: {
          ...base.document,
          run: { ...base.document.run, status },
          steps: [
            {
              id: 'carry_optouts:acme',
              action: 'carry_optouts',
              customer_id: 'acme',
              state: 'failed',
              attempts: 1,
              started_at: null,
              finished_at: null,
              twilio: null,
              error: { status: 403, code: 20403, message: 'no access' },
            },
          ],
        },
      });
      expect(verdict(page), status).toBe('not-ready');
      const text = block(page);
      expect(text).toContain('NOT ready to sign off, because:');
      // The carry failed; the base run's numbers moved: the run, not the move, is unfinished.
      expect(text).toMatch(
        /The run is not finished: [^;]+; 1 step\(s\) failed, though every number moved\./,
      );
      expect(text).not.toContain('The move is not finished');
      expect(text).toContain('submigrate apply again with the same plan');
      expect(text).toContain('Once it is ready, signing confirms that:');
      expect(text).not.toContain('Ready to sign off');
    }
  });

  /** The page of a run whose customer acme's list is not whole: a year of history not read. */
  function pageListNotWhole(): string {
    const base = input();
    const coverage = {
      ...base.optouts!.coverage,
      not_read: [
        {
          account_sid: 'AC' + '0'.repeat(32),
          start: '2024-01-01T00:00:00Z',
          end: '2025-01-01T00:00:00Z',
        },
      ],
    };
    return reportPage({
      ...base,
      optouts: { ...base.optouts!, coverage },
      partial: new Set(['acme']),
    });
  }

  it('says the move is not ready while a list is not whole: history not read', () => {
    const page = pageListNotWhole();
    expect(verdict(page)).toBe('not-ready');
    expect(block(page)).toContain(
      'The suppression lists of 1 customer(s) are not whole: part of the message history was never read',
    );
    expect(block(page)).toContain('ask the customer for its own opt-out records');
  });

  it('never says nobody on a list was texted while a list is not whole', () => {
    // Found not whole after the last reconcile pass (no pass marked it: a newer submigrate's
    // keyword rules, a window found narrower), its customer's sends were held to part of it.
    const page = pageListNotWhole();
    expect(verdict(page)).toBe('not-ready');
    expect(block(page)).not.toContain('Nobody on a suppression list has been texted');
    expect(block(page)).toContain(
      'not every list is whole (above): someone who opted out in the history not read may have been texted, and this page cannot say.',
    );
    expect(page).toContain(
      'None found in what reconcile has judged, but not all of it is judged yet',
    );
    expect(page).not.toContain('None: no message after the move went to anyone');
  });

  it("marks a customer's list that is not whole in the count a list too long for the page shows", () => {
    // Above PAGE_LIST_ROWS the page counts each customer's rows instead of showing them: the
    // rows carried the red "not whole" mark, the count did not, and read as all of the list.
    const base = input();
    const counts = new Map<string | null, number>([
      ['acme', PAGE_LIST_ROWS],
      ['beta', 1],
    ]);
    const page = reportPage({
      ...base,
      optouts: { ...base.optouts!, rows: [], counts },
      partial: new Set(['acme']),
    });
    expect(page).toContain(`The list has ${PAGE_LIST_ROWS + 1} rows, too many for this page`);
    const countRow = (id: string) =>
      new RegExp(`<tr>\\s*<td>${id}</td>[\\s\\S]*?</tr>`).exec(page)?.[0] ?? '';
    expect(page).toMatch(/<th [^>]*>\s*customer list\s*<\/th>/);
    expect(countRow('acme')).toMatch(
      /<code>optouts\/acme\.csv<\/code>\s*<\/td>\s*<td class="bad">not whole<\/td>/,
    );
    expect(countRow('beta')).toMatch(/<code>optouts\/beta\.csv<\/code>\s*<\/td>\s*<td>whole<\/td>/);
  });

  it('says the move is not ready while a list is not known, or there is none', () => {
    const base = input();
    const coverage = {
      ...base.optouts!.coverage,
      never_read: [{ account_sid: 'AC' + '9'.repeat(32), customer_ids: ['acme'] }],
    };
    const unknown = reportPage({ ...base, optouts: { ...base.optouts!, coverage } });
    expect(verdict(unknown)).toBe('not-ready');
    expect(block(unknown)).toContain(
      `The suppression lists of 1 customer(s) are not known: no completed snapshot has read the account their numbers came from (AC${'9'.repeat(32)}).`,
    );
    const none = reportPage(input({ optouts: null }));
    expect(verdict(none)).toBe('not-ready');
    expect(block(none)).toContain(
      'There is no suppression list this tool can vouch for (No completed snapshot).',
    );
    expect(block(none)).not.toContain('opt-out(s) in all');
  });

  it('says the move is not ready when numbers moved with no snapshot covering them', () => {
    const base = input();
    const notes = [
      {
        at: '2026-11-01T00:00:30Z',
        note: '--allow-missing-snapshot: moved 1 number(s) whose opt-outs no completed snapshot covers: +15550000001',
      },
    ];
    const source = base.rows[0]!.from_account_sid as string;
    const unread = {
      account_sid: source,
      start: '2025-01-01T00:00:00Z',
      end: '2026-11-01T00:00:00Z',
    };
    const page = reportPage({
      ...base,
      document: { ...base.document, run: { ...base.document.run, notes } },
      optouts: {
        ...base.optouts!,
        coverage: { ...base.optouts!.coverage, windows: [], not_read: [unread] },
      },
    });
    expect(verdict(page)).toBe('not-ready');
    expect(block(page)).toContain(
      'Numbers were moved before any snapshot had read their message history',
    );
  });

  it('is ready once a snapshot has read the history of the numbers moved with no snapshot', () => {
    // The reason says to run a snapshot, then report: that report, whose lists are whole, must
    // not give the same reason again (the run's note stays, in its own section).
    const base = input();
    const notes = [
      {
        at: '2026-11-01T00:00:30Z',
        note: '--allow-missing-snapshot: moved 1 number(s) whose opt-outs no completed snapshot covers: +15550000001',
      },
    ];
    const page = reportPage({
      ...base,
      document: { ...base.document, run: { ...base.document.run, notes } },
    });
    expect(block(page)).not.toContain('Numbers were moved before any snapshot');
    expect(verdict(page)).toBe('ready');
    expect(page).toContain('--allow-missing-snapshot: moved 1 number(s)');
  });

  it("judges numbers moved with no snapshot by their customers' lists once customers are judged one by one", () => {
    // A span of the parent not read after this run's numbers left it (a later wave's moves) is no
    // customer's of this run: it does not hold the page back as "moved before any snapshot".
    const base = input();
    const notes = [
      {
        at: '2026-11-01T00:00:30Z',
        note: '--allow-missing-snapshot: moved 1 number(s) whose opt-outs no completed snapshot covers: +15550000001',
      },
    ];
    const later = {
      account_sid: base.rows[0]!.from_account_sid as string,
      start: '2026-11-02T00:00:00Z',
      end: '2026-11-03T00:00:00Z',
    };
    const page = (partial: Set<string>) =>
      reportPage({
        ...base,
        partial,
        document: { ...base.document, run: { ...base.document.run, notes } },
        optouts: { ...base.optouts!, coverage: { ...base.optouts!.coverage, not_read: [later] } },
      });
    expect(block(page(new Set()))).not.toContain('Numbers were moved before any snapshot');
    expect(verdict(page(new Set()))).toBe('ready');
    expect(block(page(new Set(['acme'])))).toContain('Numbers were moved before any snapshot');
    expect(verdict(page(new Set(['acme'])))).toBe('not-ready');
  });

  it('says a moved number away from its subaccount by hand is for the customer to check, not for reconcile', () => {
    // A number moved back into the parent by hand: no pass reads it there, now or later, so
    // "run reconcile" would send the engineer round in a circle.
    const base = input();
    const away = {
      accountSid: base.rows[0]!.from_account_sid as string,
      start: '2026-11-02T00:00:00Z',
      end: '2026-11-03T00:00:00Z',
      reason: 'number-away',
      phoneNumber: '+15550000001',
    };
    const page = reportPage({ ...base, violations: [], unjudged: [away] });
    expect(verdict(page)).toBe('not-ready');
    expect(block(page)).toContain(
      `1 span(s) while a number of the mapping was where no step of apply's put it, moved there by hand (+15550000001 in ${away.accountSid} 2026-11-02T00:00:00Z → 2026-11-03T00:00:00Z): no reconcile pass reads its messages there, and none will.`,
    );
    expect(block(page)).toContain('the customer checks the messages that number sent then');
    expect(block(page)).not.toContain('never read by a reconcile pass');
    // Beside a span a pass can still read, each gets its own advice.
    const both = reportPage({
      ...base,
      violations: [],
      unjudged: [away, { ...away, reason: 'unread', phoneNumber: undefined }],
    });
    expect(block(both)).toContain('1 span(s) since the move were never read by a reconcile pass');
    expect(block(both)).toContain(
      "1 span(s) while a number of the mapping was where no step of apply's put it",
    );
  });

  it('says of a number whose transfer failed, found in an account the passes read, that its sends there are judged', () => {
    const base = input();
    const held = {
      accountSid: base.rows[0]!.to_account_sid as string,
      start: '2026-11-02T00:00:00Z',
      end: '2026-11-03T00:00:00Z',
      reason: 'number-away',
      phoneNumber: '+15550000001',
      sendsHeld: true as const,
    };
    const page = reportPage({ ...base, violations: [], unjudged: [held] });
    expect(verdict(page)).toBe('not-ready');
    expect(block(page)).toContain(
      `1 span(s) while a number whose transfer failed or was not run was in an account the reconcile passes read, moved there by hand, not by apply (+15550000001 in ${held.accountSid} 2026-11-02T00:00:00Z → 2026-11-03T00:00:00Z): its sends there are held to its suppression list (violations.csv names those to someone on it), but no pass can vouch for where it was on its way there, which may be an account no pass reads.`,
    );
    expect(block(page)).not.toContain('no reconcile pass reads its messages there');
    expect(block(page)).not.toContain('a moved number');
  });

  it('says a moved number a pass found in no account it could list is for the customer to check too', () => {
    const base = input();
    const missing = {
      accountSid: base.rows[0]!.to_account_sid as string,
      start: '2026-11-02T00:00:00Z',
      end: '2026-11-03T00:00:00Z',
      reason: 'number-not-found',
      phoneNumber: '+15550000001',
    };
    const page = reportPage({ ...base, violations: [], unjudged: [missing] });
    expect(verdict(page)).toBe('not-ready');
    expect(block(page)).toContain(
      "1 span(s) while a number of the mapping was where no step of apply's put it, moved there by hand (+15550000001 in no account a pass could list 2026-11-02T00:00:00Z → 2026-11-03T00:00:00Z): no reconcile pass reads its messages there, and none will.",
    );
    expect(block(page)).not.toContain('never read by a reconcile pass');
  });

  it("names reconcile, not snapshot alone, for a list left not whole in a customer's subaccount", () => {
    // A reconcile pass with --since skipped a span of the subaccount since the move: the list is
    // not whole, but `submigrate snapshot` reads the parent, and the page it advised stayed not
    // ready; nor were numbers moved before a snapshot had read the parent, which it has.
    const base = input();
    const notes = [
      {
        at: '2026-11-01T00:00:30Z',
        note: '--allow-missing-snapshot: moved 1 number(s) whose opt-outs no completed snapshot covers: +15550000001',
      },
    ];
    const skipped = {
      account_sid: base.rows[0]!.to_account_sid as string,
      start: '2026-11-02T00:00:00Z',
      end: '2026-11-03T00:00:00Z',
    };
    const page = reportPage({
      ...base,
      partial: new Set(['acme']),
      document: { ...base.document, run: { ...base.document.run, notes } },
      optouts: { ...base.optouts!, coverage: { ...base.optouts!.coverage, not_read: [skipped] } },
    });
    expect(verdict(page)).toBe('not-ready');
    expect(block(page)).toContain(
      "for a span in a customer's subaccount, submigrate reconcile (without --since) for the time since the move",
    );
    expect(block(page)).not.toContain('Numbers were moved before any snapshot');
    // A span in the parent only: the advice stays the snapshot's.
    const parent = reportPage({
      ...base,
      partial: new Set(['acme']),
      optouts: {
        ...base.optouts!,
        coverage: {
          ...base.optouts!.coverage,
          not_read: [{ ...skipped, account_sid: base.rows[0]!.from_account_sid as string }],
        },
      },
    });
    expect(block(parent)).toContain(
      'submigrate snapshot, which reads what Twilio still keeps, then',
    );
    expect(block(parent)).not.toContain('submigrate reconcile (without');
  });

  it('says the move is not ready after a violation, and never reconciled is said, not ticked', () => {
    const violation = {
      recipient: '+15557770001',
      sender_number: '+15550000001',
      messaging_service_sid: null,
      customer_id: 'acme',
      stop_message_sid: 'SM' + 'a'.repeat(32),
      opted_out_at: '2026-10-01T00:00:00Z',
      violating_message_sid: 'SM' + 'b'.repeat(32),
      sent_at: '2026-11-02T00:00:00Z',
      account_sid: 'AC' + '1'.repeat(32),
      status: 'delivered',
      evidence: 'keyword',
      evidence_message_sid: 'SM' + 'a'.repeat(32),
    };
    const page = reportPage(input({ violations: [violation] }));
    expect(verdict(page)).toBe('not-ready');
    expect(block(page)).toContain(
      '1 message(s) were sent after the move to people who had opted out',
    );
    const unchecked = reportPage(input({ violations: null, lastReconcileAt: null }));
    expect(block(unchecked)).toContain(
      'Nobody has checked yet whether anyone on a list was texted after the move',
    );
    expect(block(unchecked)).not.toContain('Nobody on a suppression list has been texted');
  });
});

describe('report.html: where the reviewer signs', () => {
  /** The signature section, its tags gone and its spaces folded, as a reviewer reads it. */
  const section = (page: string) =>
    /<div class="signature"[\s\S]*?(?=<\/section>)/.exec(page)?.[0] ?? '';
  const text = (html: string) =>
    html
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .replace(/ ([.,:;)])/g, '$1')
      .replace(/\( /g, '(')
      .replaceAll('&#9744;', '☐');
  const notReady = () => {
    const base = input();
    return reportPage({
      ...base,
      document: { ...base.document, run: { ...base.document.run, status: 'stopped' } },
    });
  };

  it('gives a ready run lines to sign on, inside the sign-off block, with what identifies the run', () => {
    const page = reportPage(input());
    const html = section(page);
    expect(html).toContain('data-signature="open"');
    // Within the block whose sentences it confirms, after them.
    const block = /<section\s+class="signoff[\s\S]*?<\/section>/.exec(page)?.[0] ?? '';
    expect(block).toContain(html);
    expect(block.indexOf('What follows if you sign')).toBeLessThan(block.indexOf(html));
    for (const line of ['Reviewer name', 'Role', 'Signature', 'Date', 'Notes'])
      expect(html).toMatch(
        new RegExp(`<span class="sign-label">${line}</span><span class="blank">`),
      );
    const words = text(html);
    expect(words).toContain('Decision (tick one): ☐ approved ☐ not approved');
    // Lines to write on, printed: no form field, whose typing a printout leaves out.
    expect(html).not.toMatch(/<(input|textarea|select)\b/);
    // A run 7 of another database, or this run's page before a reconcile, is not this page.
    expect(words).toContain('This signature is for this run, and these figures, only:');
    expect(html).toMatch(/Apply run <b data-signature-run>7<\/b>/);
    expect(words).toContain(
      `numbers moved out of the parent account AC${'0'.repeat(32)}, started 2026-11-01T00:00:00Z, finished 2026-11-01T00:01:00Z`,
    );
    expect(words).toContain('seal sha256:abc');
    expect(words).toContain(
      '1 of 1 number(s) moved, 1 customer(s), 1 opt-out(s) on the lists, 0 violation(s) (checked up to 2026-11-01T00:03:00Z)',
    );
    expect(words).toContain('This page written 2026-11-01T00:02:00Z by submigrate 0.1.0');
    expect(words).not.toContain('Do not sign');
  });

  it('tells the reviewer of a run not ready not to sign, and gives no lines to sign on', () => {
    const page = notReady();
    const html = section(page);
    expect(html).toContain('data-signature="do-not-sign"');
    const words = text(html);
    expect(words).toContain('Do not sign: this run is not ready — see the reasons above.');
    expect(html).not.toContain('sign-line');
    expect(words).not.toContain('Reviewer name');
    expect(words).not.toContain('approved');
    // Still says which run the page is of, should it be printed all the same.
    expect(html).toMatch(/Apply run <b data-signature-run>7<\/b>/);
  });

  it('says a run not reconciled, or with no list, as such beside the run, not as zero', () => {
    const words = text(section(reportPage(input({ optouts: null, violations: null }))));
    expect(words).toContain('no suppression list this tool can vouch for, not reconciled yet');
    expect(words).not.toContain('0 opt-out(s)');
  });
});

describe('report.html: what was done for the people who said STOP', () => {
  /** The paragraph for the reviewer, and the engineer's note after it, each as read. */
  const parts = (page: string) => {
    const words = (html: string | undefined) =>
      (html ?? '')
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .replace(/ ([.,:;)])/g, '$1')
        .replace(/\( /g, '(')
        .replaceAll('&#39;', "'")
        .trim();
    const match =
      /<p data-carry-explained="([a-z-]+)">([\s\S]*?)<\/p>\s*<p class="for-engineer">([\s\S]*?)<\/p>/.exec(
        page,
      );
    return { kind: match?.[1], reviewer: words(match?.[2]), engineer: words(match?.[3]) };
  };
  /** What a compliance reviewer cannot be expected to read: API, step, option and column names. */
  const ENGINEER_TERMS =
    /Consent Management API|carry_optouts|--carry-optouts|21610|sender_id|\.csv|\.json|API/;

  it('says, in a reviewer’s words, what Twilio now refuses and what the application must still stop', () => {
    const page = reportPage(
      input({
        carry: new Map([['acme', { to_carry: 1, written: 1 }]]),
        protection: new Map([['acme', { rows: 1, enforced: 1, protection: 'Twilio refuses…' }]]),
      }),
    );
    const { kind, reviewer, engineer } = parts(page);
    expect(kind).toBe('carried');
    expect(reviewer).toContain(
      "each customer has been given its list of them (opt-outs on list), and this run also told Twilio about them in the customer's new subaccount",
    );
    expect(reviewer).toContain(
      "From now on Twilio itself refuses a text from the customer's numbers to anyone it was told about.",
    );
    expect(reviewer).toContain('It does not refuse texts sent from toll-free numbers');
    expect(reviewer).toContain(
      "for those people the customer's own application must check its list before every text, and not send.",
    );
    expect(reviewer).toContain('What protects its opt-outs says which applies to each customer');
    expect(reviewer).not.toMatch(ENGINEER_TERMS);
    // The engineer's terms come after, in the smaller note.
    expect(engineer).toMatch(/^For the engineer: /);
    expect(engineer).toContain(
      "counts the opt-out records the customer's carry_optouts step (plan --carry-optouts) wrote through Twilio's Consent Management API, one for each recipient and sender",
    );
    expect(engineer).toContain('need not be equal');
  });

  it('does not say Twilio was told when the plan carried but no record was written', () => {
    // Every carry_optouts step failed, or the run stopped before them: Twilio refuses nothing.
    const page = reportPage(
      input({
        carry: new Map([['acme', { to_carry: 3, written: 0 }]]),
        protection: new Map([['acme', { rows: 3, enforced: 0, protection: 'application only' }]]),
      }),
    );
    const { kind, reviewer, engineer } = parts(page);
    expect(kind).toBe('not-told');
    expect(reviewer).not.toContain('told Twilio about them');
    expect(reviewer).not.toContain('From now on Twilio itself refuses');
    expect(reviewer).toContain('Twilio took none of them from this run');
    expect(reviewer).toContain('will not refuse to text them');
    expect(reviewer).toContain("Only the customer's own application can then protect them");
    expect(reviewer).not.toMatch(ENGINEER_TERMS);
    expect(engineer).toContain('failed, were not run or are not finished');
    // Nothing to carry is not a carry that failed.
    const none = reportPage(input({ carry: new Map([['acme', { to_carry: 0, written: 0 }]]) }));
    expect(parts(none).kind).toBe('carried');
  });

  it('names a step that failed among the places Twilio was not told, when others wrote', () => {
    const page = reportPage(
      input({
        carry: new Map([
          ['acme', { to_carry: 1, written: 1 }],
          ['bob', { to_carry: 2, written: 0 }],
        ]),
      }),
    );
    const { kind, reviewer } = parts(page);
    expect(kind).toBe('carried');
    expect(reviewer).toContain("the customer's step that tells it failed or was not run");
  });

  it('does not say a customer was given a list it has not got: none vouched for, or not known', () => {
    const none = parts(reportPage(input({ optouts: null, carry: null })));
    expect(none.reviewer).not.toContain('each customer has been given its list');
    expect(none.reviewer).toContain(
      'no customer has been given a list of them this tool can vouch for (see the reasons above)',
    );
    const base = input({ carry: new Map([['acme', { to_carry: 1, written: 1 }]]) });
    const coverage = {
      ...base.optouts!.coverage,
      never_read: [{ account_sid: 'AC' + '9'.repeat(32), customer_ids: ['acme'] }],
    };
    const unknown = parts(reportPage({ ...base, optouts: { ...base.optouts!, coverage } }));
    expect(unknown.reviewer).toContain(
      'each customer has been given its list of them (opt-outs on list), but for 1 whose list is not known (see the reasons above), and this run also told Twilio',
    );
  });

  it('says, when the plan carried nothing, that Twilio will not refuse and only the application can', () => {
    const { kind, reviewer, engineer } = parts(reportPage(input({ carry: null })));
    expect(kind).toBe('not-carried');
    expect(reviewer).toContain(
      'This run did not tell Twilio about them: unless an earlier run did, Twilio does not know in the new subaccounts that they opted out before the move, and will not refuse to text them.',
    );
    expect(reviewer).toContain("Only the customer's own application can then protect them");
    expect(reviewer).not.toContain('told Twilio about them');
    expect(reviewer).not.toMatch(ENGINEER_TERMS);
    expect(engineer).toContain('the plan was made without --carry-optouts');
  });
});

describe('report.html in a reviewer’s words', () => {
  /** The page's text as a reader sees it: no tags, spaces folded, the escapes read back. */
  const flat = (page: string) =>
    page
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .replace(/ ([.,:;)])/g, '$1')
      .replaceAll('&#39;', "'")
      .replaceAll('&quot;', '"');

  it('says what a failed step was doing, naming the number, with its id for the engineer', () => {
    const base = input();
    const page = reportPage({
      ...base,
      document: {
        ...base.document,
        run: { ...base.document.run, status: 'failed' },
        steps: [
          {
            id: `transfer_number:PN${'1'.repeat(32)}`,
            action: 'transfer_number',
            customer_id: 'acme',
            state: 'failed',
            attempts: 1,
            started_at: null,
            finished_at: null,
            twilio: null,
            error: { status: 400, code: 21452, message: 'the number is not in the account' },
          },
        ],
      },
    });
    expect(flat(page)).toContain(
      `Moving number +15550000001 into customer acme's subaccount failed: the number is not in the account (step transfer_number:PN${'1'.repeat(32)})`,
    );
  });

  it('says what each note of the run means, beside the note as the run recorded it', () => {
    const base = input();
    const leftover = describeLeftover({
      stepId: 'create_subaccount:acme',
      kind: 'subaccount',
      sid: 'AC' + '2'.repeat(32),
      friendlyName: 'Acme',
      accountSid: 'AC' + '0'.repeat(32),
    });
    const notes = [
      `continued: the run had stopped at 2026-11-01T00:01:00Z with 1 failed step(s): attach_number:PN${'1'.repeat(32)} (Twilio 21714: no); all are tried again`,
      "carry_optouts:acme: Twilio rejected 1 of 3 opt-out record(s) (30646); they stay on the customer's suppression list, and the audit lists each with its reasons",
      leftover,
      `create_subaccount:acme was left in flight by the last apply, and Twilio did it: subaccount AC${'2'.repeat(32)} named "Acme" appeared after the plan was made, so it is adopted, not sent again`,
      'something no page knows of yet',
    ].map((note) => ({ at: '2026-11-01T00:00:30Z', note }));
    const page = flat(
      reportPage({ ...base, document: { ...base.document, run: { ...base.document.run, notes } } }),
    );
    expect(page).toContain(
      'The run had stopped with steps that failed; it was started again and tried them again.',
    );
    expect(page).toContain(
      "Twilio declined to record some opt-outs: they stay on the customer's suppression list.",
    );
    expect(page).toContain(
      'Twilio made something twice (an unused subaccount or Messaging Service): the engineer removes it, then runs apply again.',
    );
    expect(page).toContain(
      'A change in progress when the run stopped had in fact been made by Twilio: it was taken as done, not made again.',
    );
    expect(page).not.toContain('so it was sent again');
    // Each note is still there whole, as audit.json has it.
    for (const { note } of notes)
      expect(page).toContain(`2026-11-01T00:00:30Z, recorded as: ${flat(note)}`);
  });
});
