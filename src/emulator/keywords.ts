/**
 * The emulator's own reading of Twilio's default keyword handling (the README's rules). This is
 * deliberately a separate implementation from `src/optouts/`: tests compare the two.
 */

export type KeywordClass = 'opt-out' | 'opt-in' | 'help';

const CLASSES: ReadonlyMap<string, KeywordClass> = new Map([
  ...['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT'].map(
    (word) => [word, 'opt-out'] as const,
  ),
  ...['START', 'YES', 'UNSTOP'].map((word) => [word, 'opt-in'] as const),
  ...['HELP', 'INFO'].map((word) => [word, 'help'] as const),
]);

export interface Keyword {
  word: string;
  kind: KeywordClass;
}

/**
 * The keyword a whole message body is, or null. `YES` is not an opt-in on a toll-free
 * number: carriers there only honour START and UNSTOP.
 */
export function classifyBody(body: string, numberType: string): Keyword | null {
  const word = body.trim().toUpperCase();
  const kind = CLASSES.get(word);
  if (kind === undefined) return null;
  if (word === 'YES' && numberType === 'toll-free') return null;
  return { word, kind };
}
