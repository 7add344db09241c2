/**
 * `shownUrl` is how every listing, warning and report shows a webhook URL: a password in it is
 * masked, whether a URL parser finds it (the URL's own basic auth) or not (a URL Twilio stored
 * that a URL parser refuses, or one carried in its query).
 */

import { describe, expect, it } from 'vitest';

import { shownUrl } from '../../src/plan/routes.js';

const PASSWORD = 'Hook5ecret';

describe('shownUrl', () => {
  it.each([
    [`https://owlie:${PASSWORD}@hooks.example/sms`, 'https://owlie:***@hooks.example/sms'],
    [`https://owlie:p@ss${PASSWORD}@hooks.example/sms`, 'https://owlie:***@hooks.example/sms'],
    [`https://owlie:my ${PASSWORD}@hooks.example/sms`, 'https://owlie:***@hooks.example/sms'],
    // A URL parser refuses these (the password ends the authority early): masked all the same.
    [`https://owlie:${PASSWORD}#1@hooks.example/sms`, 'https://owlie:***@hooks.example/sms'],
    [`https://owlie:${PASSWORD}?1@hooks.example/sms`, 'https://owlie:***@hooks.example/sms'],
    [`https://owlie:${PASSWORD}/1@hooks.example/sms`, 'https://owlie:***@hooks.example/sms'],
    // A URL with a password, in the webhook URL's query, plain or percent-encoded.
    [
      `https://app.example/cb?next=https://u:${PASSWORD}@x.example/`,
      'https://app.example/cb?next=https://u:***@x.example/',
    ],
    [
      `https://app.example/cb?next=https%3A%2F%2Fu%3A${PASSWORD}%40x.example`,
      'https://app.example/cb?next=https%3A%2F%2Fu%3A***%40x.example',
    ],
  ])('%s', (url, shown) => {
    expect(shownUrl(url)).toBe(shown);
  });

  it.each([
    'https://hooks.example/sms',
    'https://owlie@hooks.example:8443/sms?to=ops@example.com',
    'not a url',
  ])('leaves a URL with no password as it is: %s', (url) => {
    expect(shownUrl(url)).toBe(url);
  });
});
