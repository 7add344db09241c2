/**
 * HTML built from a tagged template: every interpolated value is escaped (escape-html) unless
 * it is a fragment this module built itself. Whatever came from Twilio or the mapping can
 * only ever be text on the page.
 */

import escapeHtml from 'escape-html';

const TRUSTED = Symbol('trusted html');

export interface Html {
  readonly [TRUSTED]: string;
}

const trusted = (text: string): Html => ({ [TRUSTED]: text });

type Value = string | number | boolean | null | undefined | Html | readonly Value[];

function render(value: Value): string {
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map((item: Value) => render(item)).join('');
  if (typeof value === 'object') return (value as Html)[TRUSTED];
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0]!;
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1]!;
  });
  return trusted(out);
}

/** Markup this module's callers wrote themselves (a style sheet, a script): never data. */
export const literal = (text: string): Html => trusted(text);

export const toHtmlString = (fragment: Html): string => fragment[TRUSTED];
