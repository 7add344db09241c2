/**
 * report.html as a compliance reviewer meets it: from a real demo run (built CLI), opened
 * from disk in Debian's Chromium (headless, through playwright-core, never a downloaded
 * browser). The summary figures and tables are rendered, the suppression list filters and
 * sorts with no server, and the page makes no request beyond its own file. A screenshot is
 * saved under reports/ for people to look at.
 */

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { parse } from 'csv-parse/sync';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { reportPage } from '../../src/report/report-page.js';
import { reportInput } from '../support/report-page-input.js';
import { runCli, tempDir, type TempDir } from '../support/snapshot-harness.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = join(process.cwd(), 'reports', 'screenshots');

/** Debian's Chromium, headless, never a downloaded browser. */
const launch = () =>
  chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu'],
  });

/** A browser for the describe block it is called in, closed after it. */
function useBrowser(): () => Browser {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await launch();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });
  return () => browser!;
}

/**
 * The printable area of the smaller of A4 and US Letter, with the page's 12 mm margins, in CSS
 * pixels (96 to the inch): A4's width less 24 mm, Letter's height less 24 mm.
 */
const PRINTED = { width: 703, height: 965 };

/**
 * The page laid out as it prints: its print style, on a viewport the size of one printed page.
 * What overflows the width is cut off on paper; what starts beyond the height is on a later page.
 */
async function asPrinted(page: Page) {
  await page.setViewportSize(PRINTED);
  await page.emulateMedia({ media: 'print' });
  // From the top of the document, wherever the page was scrolled.
  const box = (selector: string) =>
    page.locator(selector).evaluate((element) => {
      const r = element.getBoundingClientRect();
      const scrolled = element.ownerDocument.defaultView.scrollY;
      return { top: r.top + scrolled, bottom: r.bottom + scrolled };
    });
  return {
    pageWidth: await page.$eval('html', (root) => root.scrollWidth as number),
    tables: await page.$$eval('table', (tables) =>
      tables.map((t) => ({ id: t.id as string, right: t.getBoundingClientRect().right as number })),
    ),
    signoff: await box('[data-signoff]'),
    signature: await box('[data-signature]'),
  };
}

/** Back to the screen, as the other tests read the page. */
async function asScreen(page: Page) {
  await page.emulateMedia({ media: 'screen' });
  await page.setViewportSize({ width: 1280, height: 900 });
}

describe('report.html in Chromium (from a real demo run)', () => {
  let dir: TempDir;
  let browser: Browser;
  let page: Page;
  let reportDir: string;
  const requests: string[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); .ci/run does`,
      );
    }
    dir = tempDir();
    const demo = await runCli(
      ['demo', '--messages', '5000', '--seed', '3'],
      {
        PATH: process.env['PATH'] ?? '',
      },
      dir.path,
    );
    expect(demo.code).toBe(0);
    reportDir = join(dir.path, 'submigrate-demo', 'reports', '1');
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('request', (request) => requests.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(pathToFileURL(join(reportDir, 'report.html')).href);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    dir?.remove();
  });

  const csv = (name: string) =>
    parse(readFileSync(join(reportDir, name), 'utf8'), { columns: true }) as Record<
      string,
      string
    >[];
  const figure = async (id: string) =>
    (await page.locator(`[data-figure="${id}"] .value`).textContent())?.trim();

  it('opens with what to sign off: the demo run (a step failed, violations) is not ready', async () => {
    const block = page.locator('[data-signoff]');
    expect(await block.getAttribute('data-signoff')).toBe('not-ready');
    // In the first screen a reviewer sees, above everything else the page says.
    const box = await block.boundingBox();
    expect(box!.y).toBeLessThan(300);
    const text = (await block.innerText()).replace(/\s+/g, ' ');
    expect(text).toContain('NOT ready to sign off, because:');
    // Every number moved; the carry of one customer failed: the run, not the move, is unfinished.
    expect(text).toContain(
      'The run is not finished: it ended with work not done; 1 step(s) failed, though every number moved.',
    );
    expect(text).toContain(`${csv('violations.csv').length} message(s) were sent after the move`);
    expect(text).not.toContain('Ready to sign off');
  });

  it('renders the summary figures from the run', async () => {
    const audit = csv('audit.csv');
    const violations = csv('violations.csv');
    expect(await figure('customers')).toBe('50');
    expect(await figure('numbers-moved')).toBe(
      String(audit.filter((r) => r['status'] === 'done').length),
    );
    expect(await figure('violations')).toBe(String(violations.length));
    expect(violations.length).toBeGreaterThan(0);
    expect(await figure('optouts')).toBe(String(csv('optouts.csv').length));
    expect(await page.locator('[data-figure="violations"]').getAttribute('class')).toContain(
      'alarm',
    );
    // The opt-outs only the customers' apps can stop, as carry.csv counts them: the demo's
    // toll-free numbers and the subaccount without Consent API access have some.
    const listOnly = csv('carry.csv').reduce(
      (n, r) => n + Number(r['list_rows']) - Number(r['twilio_enforces_rows']),
      0,
    );
    expect(listOnly).toBeGreaterThan(0);
    expect(await figure('list-only')).toBe(String(listOnly));
  });

  it("says in each customer's row what protects its opt-outs, as carry.csv does", async () => {
    const carry = csv('carry.csv');
    const hvac = carry.find((r) => r['customer_id'] === 'granite-state-hvac')!;
    expect(hvac['protection']).toContain('only protection');
    const row = page.locator('#customers tbody tr', { hasText: 'granite-state-hvac' });
    const cell = row.locator('td.bad', { hasText: hvac['protection']! });
    expect(await cell.count()).toBe(1);
  });

  it('renders the customer, violation and suppression tables', async () => {
    expect(await page.locator('#customers tbody tr').count()).toBe(50);
    const violations = csv('violations.csv');
    const rows = page.locator('#violations tbody tr.violation');
    expect(await rows.count()).toBe(violations.length);
    const text = await rows.first().textContent();
    // Both SIDs and both times of the evidence pair.
    const first = violations.find((v) => text!.includes(v['violating_message_sid']!))!;
    expect(text).toContain(first['stop_message_sid']);
    expect(text).toContain(first['opted_out_at']);
    expect(text).toContain(first['sent_at']);
    expect(await page.locator('#suppression-list tbody tr').count()).toBe(
      csv('optouts.csv').length,
    );
    expect(await page.locator('#coverage-heading').isVisible()).toBe(true);
  });

  it('filters the suppression list without a server, and sorts it', async () => {
    const list = csv('optouts.csv');
    const recipient = list[0]!['recipient']!;
    const expected = list.filter((r) => Object.values(r).some((v) => v.includes(recipient)));
    await page.locator('input[data-filter="suppression-list"]').fill(recipient);
    const visible = page.locator('#suppression-list tbody tr:visible');
    expect(await visible.count()).toBe(expected.length);
    expect(await page.locator('#suppression-list-count').textContent()).toBe(
      String(expected.length),
    );
    for (const text of await visible.allTextContents()) expect(text).toContain(recipient);

    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'report-filtered.png'), fullPage: false });

    await page.locator('input[data-filter="suppression-list"]').fill('');
    expect(await page.locator('#suppression-list tbody tr:visible').count()).toBe(list.length);
    // Sorting by "opted out at", ascending then descending.
    const header = page.locator('#suppression-list th', { hasText: 'opted out at' });
    await header.click();
    expect(await header.getAttribute('aria-sort')).toBe('ascending');
    const column = async () =>
      page.$$eval('#suppression-list tbody tr', (trs) =>
        trs.map((tr) => tr.children[6]!.textContent!.trim()),
      );
    const ascending = await column();
    expect(ascending).toEqual([...ascending].sort());
    await header.click();
    expect(await column()).toEqual([...ascending].sort().reverse());
  });

  it('lays out a table off screen only once it is scrolled to: a list of tens of thousands of rows opens at once', async () => {
    // 62,160 rows on the suppression list: 3 minutes before the page showed, 9 s when the
    // tables off screen wait. They are still all there, for the filters and Find in page.
    const top = () =>
      page.$eval('html', async (root) => {
        const view = root.ownerDocument.defaultView!;
        // A table holding the selection (a heading clicked to sort) or focus stays laid out.
        view.getSelection()?.removeAllRanges();
        (root.ownerDocument.activeElement as { blur?: () => void } | null)?.blur?.();
        view.scrollTo(0, 0);
        await new Promise((done) =>
          view.requestAnimationFrame(() => view.requestAnimationFrame(done)),
        );
      });
    await top();
    const rendered = () =>
      page.$eval('#suppression-list tbody tr', (row) =>
        row.checkVisibility({ contentVisibilityAuto: true }),
      );
    // Off screen: skipped (once the browser has noticed it left the screen).
    await expect.poll(rendered).toBe(false);
    expect(await page.locator('#suppression-list tbody tr').count()).toBe(
      csv('optouts.csv').length,
    );
    await page.locator('#suppression-list').scrollIntoViewIfNeeded();
    await expect.poll(rendered).toBe(true);
    await top();
  });

  it('reads at a laptop’s width (1280 px): neither the page nor any table scrolls sideways', async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    const widths = {
      page: await page.$eval('html', (root) => [root.scrollWidth, root.clientWidth]),
      // Each measured on screen: a table off screen is not laid out until scrolled to.
      tables: await page.$$eval('.wrap', async (wraps) => {
        const measured: [string | undefined, number, number][] = [];
        for (const wrap of wraps) {
          const view = wrap.ownerDocument.defaultView!;
          wrap.scrollIntoView();
          await new Promise((done) =>
            view.requestAnimationFrame(() => view.requestAnimationFrame(done)),
          );
          measured.push([wrap.querySelector('table')?.id, wrap.scrollWidth, wrap.clientWidth]);
        }
        wraps[0]?.ownerDocument.defaultView!.scrollTo(0, 0);
        return measured;
      }),
    };
    expect(widths.page[0]).toBeLessThanOrEqual(widths.page[1]!);
    // Every table of the page, the customers' first: a reviewer never scrolls one sideways to
    // find a column. Each is there, and as wide as the page lets it be, no wider.
    expect(widths.tables.map(([id]) => id)).toEqual([
      'customers',
      'violations',
      'suppression-list',
      'numbers',
    ]);
    for (const [id, scroll, client] of widths.tables)
      expect(scroll, String(id)).toBeLessThanOrEqual(Number(client));
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('prints whole: no table cut at the edge, the sign-off block on the first page, and no place to sign', async () => {
    try {
      const printed = await asPrinted(page);
      expect(printed.tables.map((t) => t.id)).toEqual([
        'customers',
        'violations',
        'suppression-list',
        'numbers',
      ]);
      for (const { id, right } of printed.tables)
        expect(right, id).toBeLessThanOrEqual(PRINTED.width);
      expect(printed.pageWidth).toBeLessThanOrEqual(PRINTED.width);
      // The block and its signature section, whole on the first sheet.
      expect(printed.signoff.bottom).toBeLessThanOrEqual(PRINTED.height);
      expect(printed.signature.bottom).toBeLessThanOrEqual(printed.signoff.bottom);
      const signature = page.locator('[data-signature]');
      expect(await signature.isVisible()).toBe(true);
      expect(await signature.getAttribute('data-signature')).toBe('do-not-sign');
      expect((await signature.innerText()).replace(/\s+/g, ' ')).toContain(
        'Do not sign: this run is not ready — see the reasons above.',
      );
      expect(await page.locator('[data-sign-line]').count()).toBe(0);
      // Chromium's own print to PDF takes the page, for people to look at.
      mkdirSync(SCREENSHOTS, { recursive: true });
      const pdf = await page.pdf({ path: join(SCREENSHOTS, 'report.pdf'), format: 'A4' });
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    } finally {
      await asScreen(page);
    }
  });

  it('makes no request beyond its own file, and the page runs without errors', async () => {
    await page.mouse.wheel(0, -100_000);
    await page.screenshot({ path: join(SCREENSHOTS, 'report.png') });
    expect(requests).toEqual([pathToFileURL(join(reportDir, 'report.html')).href]);
    expect(problems).toEqual([]);
  });
});

describe('report.html of a run ready to sign, printed (Chromium)', () => {
  const browser = useBrowser();

  it('shows the signature lines, beside the run id, on the first printed page', async () => {
    const page = await browser().newPage();
    await page.setContent(reportPage(reportInput()));
    const printed = await asPrinted(page);
    const signature = page.locator('[data-signature]');
    expect(await signature.getAttribute('data-signature')).toBe('open');
    expect(await page.locator('[data-signature-run]').innerText()).toBe('7');
    const lines = page.locator('[data-sign-line]');
    expect(await lines.count()).toBe(7);
    for (const label of ['Reviewer name', 'Role', 'Signature', 'Date', 'Notes']) {
      const line = page.locator(`[data-sign-line="${label}"]`);
      expect(await line.isVisible(), label).toBe(true);
      // A rule to write on, wide enough for a name: it prints (a border), where a form
      // field's typing would not.
      const rule = line.locator('.blank');
      const box = (await rule.boundingBox())!;
      expect(box.width, label).toBeGreaterThan(150);
      const style = await rule.evaluate(
        (e) => e.ownerDocument.defaultView.getComputedStyle(e).borderBottomStyle as string,
      );
      expect(style, label).toBe('solid');
    }
    expect(printed.signature.bottom).toBeLessThanOrEqual(PRINTED.height);
    expect(printed.signoff.bottom).toBeLessThanOrEqual(PRINTED.height);
    for (const { id, right } of printed.tables)
      expect(right, id).toBeLessThanOrEqual(PRINTED.width);
    await page.close();
  });
});

describe('report.html sorts figures as numbers (Chromium)', () => {
  const browser = useBrowser();

  it('orders "10 / 10" after "2 / 2", and words after numbers', async () => {
    const base = reportInput();
    const [row] = base.rows;
    // Customers with 10, 2 and 9 of 10 numbers moved; a text sort would put "10 / 10" first.
    const sizes = { ten: [10, 10], two: [2, 2], nine: [9, 10] } as const;
    const customers = Object.keys(sizes).map((id) => ({
      ...base.document.customers[0]!,
      customer_id: id,
    }));
    const rows = Object.entries(sizes).flatMap(([id, [done, of]]) =>
      Array.from({ length: of }, (_, k) => ({
        ...row!,
        customer_id: id,
        status: k < done ? 'done' : 'failed',
      })),
    );
    const page = await browser().newPage();
    await page.setContent(
      reportPage({
        ...base,
        document: { ...base.document, customers },
        rows,
        carry: new Map([
          ['ten', { written: 12, to_carry: 12, protection: 'carried' }],
          ['two', { written: 3, to_carry: 3, protection: 'carried' }],
        ]),
      }),
    );
    const column = (label: string) =>
      page.$$eval(
        '#customers tbody tr',
        (trs, index) => trs.map((tr) => tr.children[index]!.textContent!.trim()),
        label === 'numbers moved' ? 1 : 4,
      );
    await page.locator('#customers th', { hasText: 'numbers moved' }).click();
    expect(await column('numbers moved')).toEqual(['2 / 2', '9 / 10', '10 / 10']);
    await page.locator('#customers th', { hasText: 'numbers moved' }).click();
    expect(await column('numbers moved')).toEqual(['10 / 10', '9 / 10', '2 / 2']);
    // "carried into Twilio": the customer the carry did not reach shows 0.
    await page.locator('#customers th', { hasText: 'carried into Twilio' }).click();
    expect(await column('carried')).toEqual(['0', '3 / 3', '12 / 12']);
    await page.close();
  });
});
