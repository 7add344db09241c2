/**
 * Builds real twilio SDK clients: for the parent (Auth Token, or API key + secret) and for
 * a subaccount (its own Auth Token, fetched with the parent's credentials and kept in memory
 * only). All of them share one TwilioHttpClient.
 */

import twilio from 'twilio';

import type { Credentials } from '../config.js';
import { TwilioError } from '../errors.js';
import { answeredFields, errorBodyFields } from './error-mapping.js';
import type { RequestOptions, Response, TwilioHttpClient } from './http-client.js';

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
  return twilio(accountSid, authToken, {
    httpClient: refusalsNamed(accountSid, httpClient),
    env: {},
  });
}

/**
 * The shared client, for one subaccount's requests: a 401 to one of them is that subaccount's
 * own token refused, not the environment's credentials, and is said so, naming it; a 403 is a
 * refusal to that subaccount, and names it too.
 */
function refusalsNamed(accountSid: string, httpClient: TwilioHttpClient): TwilioHttpClient {
  const named = Object.create(httpClient) as TwilioHttpClient;
  named.request = async <TData>(opts: RequestOptions<TData>): Promise<Response<TData>> => {
    const answer = await httpClient.request(opts);
    if (answer.statusCode === 401) throw ownTokenRefused(accountSid, answer.body);
    if (answer.statusCode === 403) throw subaccountRefused(accountSid, answer.body);
    return answer;
  };
  return named;
}

/**
 * A 401 to a request made with a subaccount's own Auth Token. The token came from Twilio,
 * asked with the parent's credentials (or in its answer to the subaccount's creation), so
 * those were accepted: the subaccount's token changed since, or the subaccount itself was
 * suspended or closed. Its SID is named, never its token.
 */
function ownTokenRefused(accountSid: string, body: unknown): TwilioError {
  const said = answeredFields(401, errorBodyFields(body));
  return new TwilioError({
    ...said,
    message:
      `${said.message} — subaccount ${accountSid} refused its own Auth Token, which Twilio gave ` +
      "submigrate for it with the parent's credentials (those were accepted): the " +
      "subaccount's token was changed since, or the subaccount was suspended or closed. " +
      'Check the subaccount in the Twilio Console, then run the command again.',
    retryable: false,
    subaccountSid: accountSid,
  });
}

/**
 * A 403 to a request made with a subaccount's own Auth Token: its token was accepted, and the
 * request refused to it. Twilio answers so a suspended or closed account, and also what an
 * account may not use (the Consent API without access, say): its own words say which, so none
 * is claimed here. The subaccount is named (not its token), for the parent's credentials were
 * not the ones refused.
 */
export function subaccountRefused(accountSid: string, body: unknown): TwilioError {
  const said = answeredFields(403, errorBodyFields(body));
  return new TwilioError({
    ...said,
    message:
      `${said.message} — Twilio refused this to subaccount ${accountSid}, asked with its own ` +
      "Auth Token (which Twilio gave submigrate for it with the parent's credentials). Check " +
      'the subaccount in the Twilio Console (its status, and what it may use), then run the ' +
      'command again.',
    retryable: false,
    subaccountSid: accountSid,
    answered: said.message,
  });
}
