import { describe, expect, it } from 'vitest';

import { nextPageUri } from '../../src/twilio/adapter.js';

describe('nextPageUri', () => {
  it('reads the next page of a 2010 list page, wherever the key sits', () => {
    const page = JSON.stringify({
      incoming_phone_numbers: [{ sid: 'PN1', friendly_name: 'x' }],
      next_page_uri:
        '/2010-04-01/Accounts/AC1/IncomingPhoneNumbers.json?PageSize=2&Page=1&PageToken=PAPN1',
      page: 0,
    });
    expect(nextPageUri(page)).toBe(
      '/2010-04-01/Accounts/AC1/IncomingPhoneNumbers.json?PageSize=2&Page=1&PageToken=PAPN1',
    );
    expect(
      nextPageUri(JSON.stringify({ next_page_uri: null, incoming_phone_numbers: [] })),
    ).toBeNull();
  });

  it('is not fooled by a value that contains the key', () => {
    const page = JSON.stringify(
      {
        incoming_phone_numbers: [{ sid: 'PN1', friendly_name: '"next_page_uri": "/evil"' }],
        next_page_uri: null,
      },
      null,
      2,
    );
    expect(nextPageUri(page)).toBeNull();
  });
});
