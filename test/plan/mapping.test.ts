/**
 * The mapping CSV's forgiving side (header case and spacing, BOM, CRLF, quoted fields) and
 * the line numbers every problem is reported on. The corpus of malformed files goes through
 * the built CLI in test/integration/plan.test.ts.
 */

import { describe, expect, it } from 'vitest';

import { MappingError, parseMapping } from '../../src/plan/mapping.js';

describe('parseMapping', () => {
  it('reads headers case-insensitively and trimmed, with a BOM and CRLF line endings', () => {
    const text =
      '\uFEFF Customer_ID ,CUSTOMER_NAME,Phone_Number,Messaging_Service\r\n' +
      'acme,"Smith, Ortega & Associates",+14155550101,acmeAlerts\r\n' +
      'acme,"Smith, Ortega & Associates",PN0123456789abcdef0123456789abcdef,acmeAlerts\r\n';
    const mapping = parseMapping('m.csv', text);
    expect(mapping.rows).toEqual([
      {
        line: 2,
        customerId: 'acme',
        customerName: 'Smith, Ortega & Associates',
        phoneNumber: '+14155550101',
        messagingService: 'acmeAlerts',
        subaccountSid: null,
      },
      expect.objectContaining({ line: 3, phoneNumber: 'PN0123456789abcdef0123456789abcdef' }),
    ]);
    expect(mapping.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('says how to write a name with a comma in it when a row has a field too many', () => {
    // Typed as it reads, "Café Olé, Inc." is two fields to a CSV reader: the one who typed it
    // added no comma, and was asked about "a missing or extra comma".
    const text =
      'customer_id,customer_name,phone_number,messaging_service\n' +
      'cafe,Café Olé, Inc.,+14155550101,cafeAlerts\n';
    expect(() => parseMapping('m.csv', text)).toThrow(
      'm.csv:2: 5 field(s) where the header has 4 (a value that holds a comma must be in double quotes, as "Acme, Inc."; or a comma is extra)',
    );
  });

  it('counts lines inside quoted fields, and skips blank lines, when numbering rows', () => {
    const text =
      'customer_id,customer_name,phone_number\n\nacme,"Acme\nCorp",+14155550101\n\nbirch,Birch,+1415\n';
    const error = (() => {
      try {
        parseMapping('m.csv', text);
      } catch (e) {
        return e as MappingError;
      }
      throw new Error('expected a MappingError');
    })();
    expect(error).toBeInstanceOf(MappingError);
    expect(error.problems).toEqual([
      'm.csv:6: phone_number "+1415" is neither E.164 (+ and 8–15 digits) nor a PN… SID',
    ]);
  });

  it('numbers the rows of a file without quotes as it numbers them with quotes', () => {
    // A file with no quote is read by a faster path that counts lines itself; quoting one
    // field sends the same rows through csv-parse's own line numbers. Both must agree.
    const plain = [
      '\uFEFFcustomer_id,customer_name,phone_number\r\n',
      '\r\n',
      'acme,Acme,+14155550101\r\n',
      '\r\n\r\n',
      'birch,Birch,+14155550102\r\n',
      ' \r\n',
      'cedar,Cedar,+14155550103',
    ].join('');
    const quoted = plain.replace('birch,Birch', 'birch,"Birch"');
    const lines = (text: string) => {
      try {
        return parseMapping('m.csv', text).rows.map((r) => r.line);
      } catch (e) {
        return (e as MappingError).problems;
      }
    };
    expect(lines(plain)).toEqual(['m.csv:7: 1 field(s) where the header has 3 (a missing comma?)']);
    expect(lines(quoted)).toEqual(lines(plain));
    const clean = plain.replace(' \r\n', '');
    expect(lines(clean)).toEqual([3, 6, 7]);
    expect(lines(clean.replace('birch,Birch', 'birch,"Birch"'))).toEqual([3, 6, 7]);
    expect(lines(clean.replaceAll('\r\n', '\n'))).toEqual([3, 6, 7]);
  });

  it('reads the same rows from a file without quotes as csv-parse reads with every field quoted', () => {
    const plain = [
      '\uFEFF Customer_ID ,customer_name,phone_number,messaging_service,subaccount_sid',
      '',
      `acme , Acme Corp ,+14155550101, acmeAlerts ,AC${'a'.repeat(32)}`,
      'acme, Acme Corp ,PN0123456789abcdef0123456789abcdef, acmeAlerts ,' + `AC${'a'.repeat(32)}`,
      'birch,Birch & Sons,+14155550102,,',
      'cedar,Cedar,+14155550103,cedarNotify,',
      '',
    ].join('\r\n');
    const quoteAll = (text: string) =>
      text
        .split('\r\n')
        .map((line) =>
          line === ''
            ? line
            : line
                .split(',')
                .map((field) => `"${field}"`)
                .join(','),
        )
        .join('\r\n');
    const viaPlainPath = parseMapping('m.csv', plain);
    const viaCsvParse = parseMapping('m.csv', quoteAll(plain));
    expect(viaPlainPath.rows).toEqual(viaCsvParse.rows);
    expect(viaPlainPath.rows.map((r) => r.line)).toEqual([3, 4, 5, 6]);
    expect(viaPlainPath.rows[0]).toMatchObject({
      customerName: 'Acme Corp',
      messagingService: 'acmeAlerts',
    });
  });

  it('reads a subaccount_sid with its hex digits in any case as Twilio writes it (lower case)', () => {
    const upper = `AC${'0A1B'.repeat(8)}`;
    const lower = `AC${'0a1b'.repeat(8)}`;
    const mapping = parseMapping(
      'm.csv',
      `customer_id,customer_name,phone_number,subaccount_sid\nacme,Acme,+14155550101,${upper}\nacme,Acme,+14155550102,${lower}\n`,
    );
    expect(mapping.rows.map((r) => r.subaccountSid)).toEqual([lower, lower]);
    expect(
      problemsOf(
        `customer_id,customer_name,phone_number,subaccount_sid\nacme,Acme,+14155550101,ac${'0a1b'.repeat(8)}\n`,
      ),
    ).toEqual([
      `m.csv:2: subaccount_sid "ac${'0a1b'.repeat(8)}" is not an Account SID (AC + 32 hex digits)`,
    ]);
  });

  it('empty optional cells mean none', () => {
    const mapping = parseMapping(
      'm.csv',
      'customer_id,customer_name,phone_number,messaging_service,subaccount_sid\nacme,Acme,+14155550101,,\n',
    );
    expect(mapping.rows[0]).toMatchObject({ messagingService: null, subaccountSid: null });
  });

  it('a file that breaks off (an unterminated quote) is checked up to the break, the break last', () => {
    const text =
      'customer_id,customer_name,phone_number\nacme,Acme,+14155550101\n,Birch,+14155550102\nbirch,"Birch,+14155550103\nc,C,+14155550104\n';
    expect(problemsOf(text)).toEqual([
      'm.csv:3: customer_id is empty',
      'm.csv:4: a quoted field is never closed (an unterminated quote from here on)',
    ]);
  });

  it('a row with a bad value still takes part in the checks across rows', () => {
    const text =
      'customer_id,customer_name,phone_number\nacme,Acme Corp,12345\nacme,Acme,+14155550101\n';
    expect(problemsOf(text)).toEqual([
      'm.csv:2: phone_number "12345" is neither E.164 (+ and 8–15 digits) nor a PN… SID',
      'm.csv:3: customer "acme" is named "Acme" here but "Acme Corp" on line 2',
    ]);
  });

  it('reports every problem of the file at once, each with its line', () => {
    const text =
      'customer_id,customer_name,phone_number\n,Acme,+14155550101\nacme,Acme,123\nacme,Acme,+14155550101\nacme,Acme,+14155550101\n';
    expect(() => parseMapping('m.csv', text)).toThrow(MappingError);
    try {
      parseMapping('m.csv', text);
    } catch (error) {
      expect((error as MappingError).problems.map((p) => p.split(': ')[0])).toEqual([
        'm.csv:2',
        'm.csv:3',
        'm.csv:5',
      ]);
    }
  });
});

describe('parseMapping: line breaks of any kind', () => {
  const header = 'customer_id,customer_name,phone_number';

  it('counts a CRLF inside a quoted field as one line', () => {
    const text = `${header}\nacme,"Acme\r\nCorp",+14155550101\nacme,"Acme\r\nCorp",+14155550102\nbirch,Birch,+1415\n`;
    expect(problemsOf(text)).toEqual([
      'm.csv:6: phone_number "+1415" is neither E.164 (+ and 8–15 digits) nor a PN… SID',
    ]);
  });

  it('reads a file whose lines end in CRLF and LF both, quoted fields and all', () => {
    const text = `${header}\r\nacme,"Acme",+14155550101\nacme,"Acme",+14155550102\r\nbirch,Birch,12345\n`;
    expect(problemsOf(text)).toEqual([
      'm.csv:4: phone_number "12345" is neither E.164 (+ and 8–15 digits) nor a PN… SID',
    ]);
    const fixed = text.replace('12345', '+14155550103');
    expect(parseMapping('m.csv', fixed).rows.map((r) => r.line)).toEqual([2, 3, 4]);
  });

  it('reads a file whose lines end in a lone CR as one whose lines end in LF', () => {
    const text = `${header}\racme,"Acme\rCorp",+14155550101\r\rbirch,Birch,+14155550102\r`;
    const rows = parseMapping('m.csv', text).rows;
    expect(rows.map((r) => [r.line, r.customerName])).toEqual([
      [2, 'Acme\nCorp'],
      [5, 'Birch'],
    ]);
    expect(rows).toEqual(parseMapping('m.csv', text.replaceAll('\r', '\n')).rows);
  });
});

describe('parseMapping: a file whose columns are not separated by commas', () => {
  // Each says what to do that gives commas. "Save it as CSV (comma-delimited)", said to all
  // three, does not for semicolons: Excel writes its CSV with the list separator of the
  // system's region settings, a semicolon where the decimal mark is a comma, so the file saved
  // again as it said was refused again; and a tab-delimited export has nothing to do with
  // decimal commas, which the line gave as the likely cause of every one.
  it.each([
    [
      'semicolons',
      ';',
      'semicolons, not commas, as a spreadsheet writes "CSV" where the decimal mark is a comma (Excel puts the system\'s list separator between the columns, so saving it as CSV there again gives the same file): export it with a comma as the field delimiter (LibreOffice Calc: Field delimiter ","), or set the system\'s list separator to a comma and save it as CSV again, and plan again',
    ],
    [
      'tabs',
      '\t',
      'tabs, not commas, as a "Text (Tab delimited)" export is: save it as CSV, and plan again',
    ],
    [
      'vertical bars',
      '|',
      'vertical bars, not commas: export it with a comma as the field delimiter, and plan again',
    ],
  ])('%s: refused in one line naming the separator and what gives commas', (_, char, said) => {
    const text = ['customer_id', 'customer_name', 'phone_number']
      .join(char)
      .concat(`\r\nacme${char}Acme${char}+14155550101\r\n`);
    expect(problemsOf(`\uFEFF${text}`)).toEqual([`m.csv:1: the columns are separated by ${said}`]);
  });

  it('a one-column header that does not hold every required column is reported as before', () => {
    expect(problemsOf('customer_id;customer_name\nacme;Acme\n')).toEqual([
      'm.csv:1: unknown column "customer_id;customer_name" (columns are customer_id, customer_name, phone_number, messaging_service, subaccount_sid)',
      'm.csv:1: missing required column "customer_id"',
      'm.csv:1: missing required column "customer_name"',
      'm.csv:1: missing required column "phone_number"',
    ]);
  });
});

describe('parseMapping: a file that is not UTF-8 text', () => {
  const header = 'customer_id,customer_name,phone_number';
  /** The bytes of a file as the plan command reads them: decoded as UTF-8. */
  const asRead = (bytes: Buffer) => bytes.toString('utf8');

  it.each([
    [
      'UTF-16 with its byte-order mark',
      Buffer.from(`\uFEFF${header}\r\nacme,Acme,+14155550101\r\n`, 'utf16le'),
    ],
    ['UTF-16 without one', Buffer.from(`${header}\r\nacme,Acme,+14155550101\r\n`, 'utf16le')],
  ])('%s: refused in one line', (_, bytes) => {
    expect(problemsOf(asRead(bytes))).toEqual([
      'm.csv:1: the file is UTF-16, not UTF-8: save it as CSV UTF-8 and plan again',
    ]);
  });

  it('bytes that are not UTF-8 (Windows-1252): refused, naming the line, not planned mangled', () => {
    const bytes = Buffer.from(
      `${header}\nacme,Acme,+14155550101\ncafe,Caf\xe9,+14155550102\n`,
      'latin1',
    );
    expect(problemsOf(asRead(bytes))).toEqual([
      'm.csv:3: holds bytes that are not UTF-8 (a file saved in another encoding, such as Windows-1252?): save it as CSV UTF-8 and plan again',
    ]);
  });

  it('a NUL byte: refused, naming the line', () => {
    expect(problemsOf(`${header}\r\nacme,Ac\0me,+14155550101\r\n`)).toEqual([
      'm.csv:2: holds a NUL byte: the file is not CSV text',
    ]);
  });
});

describe('parseMapping: names with characters that cannot be seen', () => {
  const header = 'customer_id,customer_name,phone_number,messaging_service';
  it.each([
    ['a zero-width space', '\u200B'],
    ['a word joiner', '\u2060'],
    ['a byte-order mark inside the name', '\uFEFF'],
    ['a soft hyphen', '\u00AD'],
    ['a right-to-left override', '\u202E'],
    ['a first-strong isolate', '\u2068'],
    ['a line separator', '\u2028'],
    ['an escape character', '\u001B'],
    ['a C1 control', '\u0085'],
  ])(
    'refuses %s in a customer name or a service name, naming the line and the character',
    (_, c) => {
      const code = `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
      const escaped = code.replace('+', '\\+');
      const problems = problemsOf(
        `${header}\nacme,Acme${c} Corp,+14155550101,Alerts\nglobex,Globex,+14155550102,Globex${c}Alerts\n`,
      );
      expect(problems).toHaveLength(2);
      expect(problems[0]).toMatch(
        new RegExp(
          `^m\\.csv:2: customer_name "Acme.* Corp" holds a character that cannot be seen \\(${escaped}\\)`,
        ),
      );
      expect(problems[1]).toMatch(
        new RegExp(
          `^m\\.csv:3: messaging_service "Globex.*Alerts" holds a character that cannot be seen \\(${escaped}\\)`,
        ),
      );
      // The reason is one line, the character written out.
      for (const problem of problems) expect(problem).not.toContain(c);
    },
  );

  it('reads names whose scripts or emoji need joiners and direction marks, and line breaks', () => {
    const names = [
      'کتاب\u200Cخانه', // Persian: a zero-width non-joiner inside a word
      'Family \u{1F468}\u200D\u{1F469}\u200D\u{1F467}', // an emoji joined by zero-width joiners
      'שלום\u200F Ltd', // a right-to-left mark
      'Tab\tand "Two\nlines"',
    ];
    const rows = names.map(
      (name, i) => `c${i},"${name.replace(/"/g, '""')}",+1415555010${i},Svc\u200C${i}`,
    );
    const mapping = parseMapping('m.csv', `${header}\n${rows.join('\n')}\n`);
    expect(mapping.rows.map((r) => r.customerName)).toEqual(names);
  });
});

describe('parseMapping: other characters that cannot be seen', () => {
  const header = 'customer_id,customer_name,phone_number,messaging_service';
  it.each([
    ['an invisible separator', '\u2063'],
    ['an invisible plus', '\u2064'],
    ['a function application', '\u2061'],
    ['a Mongolian vowel separator', '\u180E'],
    ['an inhibit symmetric swapping', '\u206A'],
    ['an interlinear annotation anchor', '\uFFF9'],
    ['a combining grapheme joiner', '\u034F'],
    ['a Hangul filler', '\u3164'],
    ['a halfwidth Hangul filler', '\uFFA0'],
    ['a Khmer inherent vowel', '\u17B4'],
    ['a language tag', '\u{E0001}'],
    ['a tag character outside an emoji flag', '\u{E0041}'],
    ['a musical begin-beam', '\u{1D173}'],
  ])('refuses %s in a customer name and in a service name, written out', (_, c) => {
    const code = `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    const problems = problemsOf(
      `${header}\nacme,Acme${c} Corp,+14155550101,Alerts\nglobex,Globex,+14155550102,Globex${c}Alerts\n`,
    );
    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain(`m.csv:2: customer_name "Acme`);
    expect(problems[0]).toContain(`holds a character that cannot be seen (${code})`);
    expect(problems[1]).toContain(`m.csv:3: messaging_service "Globex`);
    for (const problem of problems) {
      expect(problem).not.toContain(c);
      // Written out whole: an astral character as its two UTF-16 halves, not the first alone.
      expect(JSON.parse(/"Acme.*? Corp"|"Globex.*?Alerts"/.exec(problem)![0])).toMatch(c);
    }
  });

  it('reads an emoji flag spelled with tag characters', () => {
    const scotland = '\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}';
    const mapping = parseMapping('m.csv', `${header}\nacme,Acme ${scotland},+14155550101,\n`);
    expect(mapping.rows[0]?.customerName).toBe(`Acme ${scotland}`);
  });
});

describe('parseMapping: names that look like another name', () => {
  const header = 'customer_id,customer_name,phone_number,messaging_service';

  it.each([
    ['a no-break space', '\u00A0'],
    ['a narrow no-break space', '\u202F'],
    ['an en space', '\u2002'],
    ['a thin space', '\u2009'],
    ['a figure space', '\u2007'],
    ['a medium mathematical space', '\u205F'],
  ])('refuses %s in a customer name and in a service name, written out', (_, c) => {
    const code = `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    const problems = problemsOf(
      `${header}\nacme,Acme Corp,+14155550101,Alerts\nglobex,Acme${c}Corp,+14155550102,Globex${c}Alerts\n`,
    );
    expect(problems).toEqual([
      `m.csv:3: customer_name "Acme\\u${code.slice(2)}Corp" holds a space that is not a plain one (${code}, as pasted from a web page or a word processor): the name looks the same as one typed with plain spaces, but is another; type a plain space`,
      `m.csv:3: messaging_service "Globex\\u${code.slice(2)}Alerts" holds a space that is not a plain one (${code}, as pasted from a web page or a word processor): the name looks the same as one typed with plain spaces, but is another; type a plain space`,
    ]);
  });

  it('refuses a name written with a combining accent (not NFC), written out, and names what it reads as', () => {
    const problems = problemsOf(
      `${header}\nacme,Caf\u00E9,+14155550101,\nglobex,Cafe\u0301 Bar,+14155550102,Cafe\u0301 Alerts\nacme,Cafe\u0301,+14155550103,\n`,
    );
    expect(problems).toEqual([
      'm.csv:3: customer_name "Cafe\\u0301 Bar" is not written in the usual (composed, NFC) form of its characters, from U+0301 on: it looks the same as "Caf\u00E9 Bar", but is another name; retype it, or save the file with composed characters (Unicode NFC)',
      'm.csv:3: messaging_service "Cafe\\u0301 Alerts" is not written in the usual (composed, NFC) form of its characters, from U+0301 on: it looks the same as "Caf\u00E9 Alerts", but is another name; retype it, or save the file with composed characters (Unicode NFC)',
      'm.csv:4: customer_name "Cafe\\u0301" is not written in the usual (composed, NFC) form of its characters, from U+0301 on: it looks the same as "Caf\u00E9", but is another name; retype it, or save the file with composed characters (Unicode NFC)',
      // The value that is not NFC is written out, so the two names read apart.
      'm.csv:4: customer "acme" is named "Cafe\\u0301" here but "Caf\u00E9" on line 2',
    ]);
  });

  it('reads names in NFC with accents and marks of their own, an ideographic space, full-width letters', () => {
    const names = [
      'Caf\u00E9 Ng\u1EC7', // é and ệ, composed
      '\u0926\u093F\u0932\u094D\u0932\u0940 Traders', // Devanagari vowel signs: NFC as they are
      '\u5C71\u7530\u3000\u592A\u90CE', // 山田　太郎: an ideographic space
      '\uFF21\uFF22\uFF23\u682A\u5F0F\u4F1A\u793E', // ＡＢＣ株式会社: full-width letters
    ];
    const rows = names.map((name, i) => `c${i},${name},+1415555010${i},${name} Alerts`);
    const mapping = parseMapping('m.csv', `${header}\n${rows.join('\n')}\n`);
    expect(mapping.rows.map((r) => [r.customerName, r.messagingService])).toEqual(
      names.map((name) => [name, `${name} Alerts`]),
    );
  });
});

describe('parseMapping: every problem on one line', () => {
  const header = 'customer_id,customer_name,phone_number';

  it('writes out a line break or an invisible character of the value it names', () => {
    const text = `${header}\nacme,"Acme\nCorp",+14155550101\nacme,"Acme\u200B\nCorp",+14155550102\n"ac\nme",A,+1\n`;
    expect(problemsOf(text)).toEqual([
      'm.csv:4: customer_name "Acme\\u200B\\nCorp" holds a character that cannot be seen (U+200B): a name with it looks the same as one without it, but is another; remove it',
      'm.csv:6: customer_id "ac\\nme" may hold only letters, digits, ".", "_", "@" and "-" (at most 64, not starting with a symbol)',
      'm.csv:6: phone_number "+1" is neither E.164 (+ and 8–15 digits) nor a PN… SID',
      'm.csv:4: customer "acme" is named "Acme\\u200B\\nCorp" here but "Acme\\nCorp" on line 2',
    ]);
  });

  it('says where the file stops being CSV in a reason of its own', () => {
    expect(problemsOf(`${header}\nacme,"Acme" Corp,+14155550101\n`)).toEqual([
      'm.csv:2: a quoted field goes on after its closing quote (a quote inside a quoted field is written twice: "")',
    ]);
    expect(problemsOf(`${header}\nacme,Acme "Corp",+14155550101\n`)).toEqual([
      'm.csv:2: a quote inside a field that does not start with one (quote the whole field, and write each quote inside it twice)',
    ]);
  });
});

describe('parseMapping: customer_ids as report file names', () => {
  const header = 'customer_id,customer_name,phone_number';

  it('refuses two ids that differ only in case (one file on macOS and Windows), on each later row', () => {
    const text = `${header}\nacme,Acme,+14155550101\nbirch,Birch,+14155550102\nACME,Acme Two,+14155550103\nAcme,Acme,+14155550104\nacme,Acme,+14155550105\n`;
    expect(problemsOf(text)).toEqual([
      'm.csv:4: customer_id "ACME" differs from "acme" (line 2) only in case: their report files (optouts/<customer_id>.csv) would be one file on macOS and Windows; write one customer\'s id the same way on every row, and give two customers ids that differ in more than case',
      'm.csv:5: customer_name "Acme" is also customer "acme"\'s name (line 2); subaccounts are matched by name, so names must differ',
      'm.csv:5: customer_id "Acme" differs from "acme" (line 2) only in case: their report files (optouts/<customer_id>.csv) would be one file on macOS and Windows; write one customer\'s id the same way on every row, and give two customers ids that differ in more than case',
    ]);
  });

  it.each(['CON', 'con', 'Nul', 'aux', 'PRN', 'COM1', 'lpt9', 'nul.acme', 'CON.'])(
    'refuses %j, a name Windows keeps for a device (optouts/CON.csv cannot be written there)',
    (id) => {
      expect(problemsOf(`${header}\n${id},Acme,+14155550101\n`)).toEqual([
        `m.csv:2: customer_id "${id}" is a name Windows keeps for a device: its report file (optouts/${id}.csv) could not be written or copied there; give the customer another id`,
      ]);
    },
  );

  // Each would name no file of its own under optouts/ (a path out of it, a folder, a name
  // past NAME_MAX, one a normalizing file system reads as another id): refused at plan time,
  // before the numbers move, not when apply writes the reports after moving them.
  it.each([
    ['..', '..'],
    ['.', '.'],
    ['a/b', 'a/b'],
    ['a\\b', 'a\\\\b'],
    ['.hidden', '.hidden'],
    ['-acme', '-acme'],
    ['ac\u0001me', 'ac\\u0001me'],
    ['x'.repeat(65), 'x'.repeat(65)],
    ['x'.repeat(300), 'x'.repeat(300)],
    ['caf\u00e9', 'caf\u00e9'],
    ['cafe\u0301', 'cafe\\u0301'],
  ])('refuses %j, which cannot name its report file alone', (id, shown) => {
    expect(problemsOf(`${header}\n"${id}",Acme,+14155550101\n`)).toEqual([
      `m.csv:2: customer_id "${shown}" may hold only letters, digits, ".", "_", "@" and "-" (at most 64, not starting with a symbol)`,
    ]);
  });

  it('reads ids that only begin like a Windows device name', () => {
    const ids = ['console', 'con-1', 'auxiliary', 'nullable', 'com10', 'lpt', 'com', 'a.con'];
    const rows = ids.map((id, i) => `${id},Name ${i},+1415555010${i}`);
    expect(
      parseMapping('m.csv', `${header}\n${rows.join('\n')}\n`).rows.map((r) => r.customerId),
    ).toEqual(ids);
  });

  it('reads ids that differ in more than case', () => {
    // acme. names optouts/acme..csv: a trailing dot Windows drops ends the id, not the file name.
    const text = `${header}\nacme,Acme,+14155550101\nacme-2,Acme Two,+14155550102\nacme.2,Acme Three,+14155550103\nacme.,Acme Four,+14155550104\n`;
    expect(parseMapping('m.csv', text).rows.map((r) => r.customerId)).toEqual([
      'acme',
      'acme-2',
      'acme.2',
      'acme.',
    ]);
  });
});

describe('parseMapping: names as FriendlyNames (at most 64 characters)', () => {
  const header = 'customer_id,customer_name,phone_number,messaging_service';
  // 62 letters and a tooth emoji (U+1F9B7, two UTF-16 code units): 63 code points, 64 units.
  const atLimit = `${'a'.repeat(62)}\u{1F9B7}`;
  // One more letter: 64 code points, 65 units. Twilio does not say how it counts its 64
  // "characters"; if as a Java or JavaScript server does, it refuses this name at apply.
  const overLimit = `b${atLimit}`;

  it('reads names of 64 characters, an emoji counting as two', () => {
    const text = `${header}\nacme,${'n'.repeat(64)},+14155550101,${'s'.repeat(64)}\nbirch,${atLimit},+14155550102,${atLimit}\n`;
    expect(parseMapping('m.csv', text).rows.map((r) => r.customerName)).toEqual([
      'n'.repeat(64),
      atLimit,
    ]);
  });

  it('refuses a name over 64 characters, an emoji counting as two, before anything is planned', () => {
    expect([...overLimit]).toHaveLength(64);
    const text = `${header}\nacme,${'n'.repeat(65)},+14155550101,${'s'.repeat(65)}\nbirch,${overLimit},+14155550102,${overLimit}\n`;
    const counted =
      '65 characters as the limit counts them (64 as written: a character beyond U+FFFF, such as an emoji, counts as two, since Twilio does not say how it counts)';
    expect(problemsOf(text)).toEqual([
      "m.csv:2: customer_name is 65 characters; a subaccount's FriendlyName holds at most 64",
      "m.csv:2: messaging_service is 65 characters; a Messaging Service's FriendlyName holds at most 64",
      `m.csv:3: customer_name is ${counted}; a subaccount's FriendlyName holds at most 64`,
      `m.csv:3: messaging_service is ${counted}; a Messaging Service's FriendlyName holds at most 64`,
    ]);
  });
});

function problemsOf(text: string): readonly string[] {
  try {
    parseMapping('m.csv', text);
  } catch (error) {
    if (error instanceof MappingError) return error.problems;
    throw error;
  }
  throw new Error('expected a MappingError');
}
