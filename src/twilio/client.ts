/**
 * Builds real twilio SDK clients: for the parent (Auth Token, or API key + secret) and for
 * a subaccount (its own Auth Token, fetched with the parent's credentials and kept in memory
 * only). All of them share one TwilioHttpClient.
 */

import twilio from 'twilio';

import type { Credentials } from '../config.js';
import type { TwilioHttpClient } from './http-client.js';

export type TwilioClient = twilio.Twilio;

export function createParentClient(
  credentials: Credentials,
  httpClient: TwilioHttpClient,
): TwilioClient {
  // `env: {}` keeps TWILIO_EDGE / TWILIO_REGION / TWILIO_LOG_LEVEL from rewriting hosts or
  // logging requests behind our back.
  if (credentials.kind === 'api-key') {
    return twilio(credentials.apiKey, credentials.apiSecret, {
      accountSid: credentials.accountSid,
      httpClient,
      env: {},
    });
  }
  return twilio(credentials.accountSid, credentials.authToken, { httpClient, env: {} });
}

export function createAccountClient(
  accountSid: string,
  authToken: string,
  httpClient: TwilioHttpClient,
): TwilioClient {
  return twilio(accountSid, authToken, { httpClient, env: {} });
}
