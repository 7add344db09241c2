import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';

import { neutralizeFormula, toCsv } from '../src/csv.js';

describe('neutralizeFormula', () => {
  it.each([
    ['=SUM(A1)', "'=SUM(A1)"],
    ['=HYPERLINK("http://evil.example","click")', `'=HYPERLINK("http://evil.example","click")`],
    ['+1', "'+1"],
    ['-2', "'-2"],
    ['@x', "'@x"],
    ['\tSTOP', "'\tSTOP"],
    ['\rSTOP', "'\rSTOP"],
    ['+14155550100', "'+14155550100"],
  ])('%j → %j', (value, expected) => {
    expect(neutralizeFormula(value)).toBe(expected);
  });

  it.each(['STOP', '', ' =SUM(A1)', 'a=b', '1+1', "'=already", 'stop\n=SUM(A1)', '\nSTOP'])(
    '%j stays as it is',
    (value) => {
      expect(neutralizeFormula(value)).toBe(value);
    },
  );
});

interface Row extends Record<string, unknown> {
  recipient: string;
  keyword: string | null;
  body: string;
  count?: number;
}

const columns = ['recipient', 'keyword', 'body', 'count'] as const;

function parseCsv(text: string): string[][] {
  return parse(text, { relax_column_count: false }) as string[][];
}

describe('toCsv', () => {
  it('writes a header row, then one line per row, with LF line endings', () => {
    const csv = toCsv<Row>(
      [...columns],
      [
        { recipient: '+14155550100', keyword: 'STOP', body: 'stop', count: 1 },
        { recipient: '+14155550101', keyword: 'END', body: 'End', count: 2 },
      ],
      ['body'],
    );
    expect(csv).toBe(
      'recipient,keyword,body,count\n+14155550100,STOP,stop,1\n+14155550101,END,End,2\n',
    );
    expect(csv).not.toContain('\r');
  });

  it('writes the header even with no rows', () => {
    expect(toCsv<Row>([...columns], [], ['body'])).toBe('recipient,keyword,body,count\n');
  });

  it('neutralizes formulas in free-text columns only', () => {
    const bodies = ['=SUM(A1)', '+1', '-2', '@x', '\tSTOP', '\rSTOP'];
    const rows: Row[] = bodies.map((body) => ({
      recipient: '+14155550100',
      keyword: '-STOP',
      body,
    }));
    const parsed = parseCsv(toCsv<Row>([...columns], rows, ['body']));
    expect(parsed).toEqual([
      ['recipient', 'keyword', 'body', 'count'],
      ...bodies.map((body) => ['+14155550100', '-STOP', `'${body}`, '']),
    ]);
  });

  it('keeps an E.164 number as it is in a column that is not free text', () => {
    const csv = toCsv<Row>(
      [...columns],
      [{ recipient: '+14155550100', keyword: 'STOP', body: '+14155550100' }],
      ['body', 'keyword'],
    );
    const [, row] = parseCsv(csv);
    expect(row?.[0]).toBe('+14155550100');
    expect(row?.[2]).toBe("'+14155550100");
    expect(csv.split('\n')[1]?.startsWith('+14155550100,')).toBe(true);
  });

  it('quotes a lone carriage return, so every reader sees one row', () => {
    const csv = toCsv<Row>(
      ['recipient', 'body'],
      [{ recipient: '+14155550100', keyword: null, body: 'a\rb' }],
      [],
    );
    expect(csv).toBe('recipient,body\n+14155550100,"a\rb"\n');
    expect(parse(csv, { columns: true })).toEqual([{ recipient: '+14155550100', body: 'a\rb' }]);
  });

  it('quotes commas, quotes and newlines, and they parse back to the same text', () => {
    const bodies = [
      'stop, please',
      'she said "STOP"',
      'line one\nline two',
      'windows\r\nline',
      '"',
      ',',
      '',
      '  spaces  ',
      'émoji 🛑 and ideographic\u3000space',
    ];
    const rows: Row[] = bodies.map((body, i) => ({
      recipient: `+1415555010${i}`,
      keyword: null,
      body,
      count: i,
    }));
    const csv = toCsv<Row>([...columns], rows, ['body']);
    expect(parseCsv(csv)).toEqual([
      ['recipient', 'keyword', 'body', 'count'],
      ...bodies.map((body, i) => [`+1415555010${i}`, '', body, String(i)]),
    ]);
    expect(csv).toContain('"she said ""STOP"""');
    expect(csv).toContain('"stop, please"');
  });

  it('writes null and undefined as empty cells, and other values as text', () => {
    const csv = toCsv<Row>(
      [...columns],
      [{ recipient: '+14155550100', keyword: null, body: 'x', count: 0 }],
      ['body'],
    );
    expect(parseCsv(csv)[1]).toEqual(['+14155550100', '', 'x', '0']);
  });

  it('follows the column order given, not the row object order', () => {
    const csv = toCsv<Row>(
      ['body', 'recipient'],
      [{ recipient: '+14155550100', keyword: 'STOP', body: 'stop' }],
      ['body'],
    );
    expect(csv).toBe('body,recipient\nstop,+14155550100\n');
  });
});
