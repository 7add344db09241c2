/** The words of the Owlie scenario's history: what customers send, and what people reply. */

import type { Kind } from './owlie-customers.js';

export const TEMPLATES: Record<Kind, readonly string[]> = {
  health: [
    '{biz}: reminder of your appointment on {day} at {time}. Reply C to confirm.',
    '{biz}: your cleaning is booked for {day} at {time}. Call us to reschedule.',
    '{biz}: Dr. {person} is running about 15 minutes behind today. Thanks for your patience.',
    '{biz}: your results are ready. Log in to the patient portal: {link}',
    "{biz}: it's time for your 6-month checkup! Book online: {link}",
  ],
  beauty: [
    '{biz}: see you {day} at {time} with {person}!',
    '{biz}: we have an opening tomorrow at {time}. Reply to grab it!',
    'Thanks for visiting {biz}! Tell us how we did: {link}',
    '{biz}: your appointment with {person} is confirmed for {day} at {time}.',
  ],
  fitness: [
    '{biz}: your {class} class starts {day} at {time}. Bring water!',
    "{biz}: today's {time} {class} is cancelled. Sorry! Rebook: {link}",
    '{biz}: your membership renews on {date}.',
    '{biz}: you are off the waitlist for {class} on {day} at {time}.',
  ],
  travel: [
    '{biz}: trip {code} departs {day} at {time}. Check in: {link}',
    '{biz}: your pickup is confirmed for {day} at {time}.',
    '{biz}: trip {code} is delayed. New departure {time}.',
    '{biz}: boarding for {code} starts at {time}, dock/gate {gate}.',
    '{biz}: your reservation {code} on {date} is confirmed.',
  ],
  retail: [
    '{biz}: your order #{order} has shipped! Track it: {link}',
    '{biz}: order #{order} is ready for pickup.',
    '{biz}: 20% off everything this weekend only. Reply STOP to opt out.',
    '{biz}: your order #{order} was delivered. Enjoy!',
  ],
  food: [
    '{biz}: your table for {party} is ready!',
    '{biz}: order #{order} is ready for pickup.',
    '{biz}: your delivery is on its way, ETA {eta} min.',
    '{biz}: thanks for your order #{order}! Rate it: {link}',
  ],
  home: [
    '{biz}: {person} is on the way, ETA {eta} minutes.',
    '{biz}: your visit is scheduled for {day} between {time} and noon.',
    '{biz}: invoice #{order} is due {date}. Pay online: {link}',
    '{biz}: reminder, we will be there {day} at {time}. Reply C to confirm.',
  ],
  pro: [
    '{biz}: reminder of your meeting on {day} at {time}.',
    '{biz}: documents are ready for your signature: {link}',
    '{biz}: your invoice #{order} is due {date}.',
    '{biz}: your session with {person} is {day} at {time}.',
  ],
  pets: [
    '{biz}: {pet} is due for vaccines. Book: {link}',
    '{biz}: {pet} is all done and ready for pickup!',
    "{biz}: reminder, {pet}'s appointment is {day} at {time}.",
    '{biz}: {pet} had a great day with {person} today!',
  ],
};
export const FOOTERS = [
  '',
  '',
  '',
  ' Reply STOP to opt out.',
  ' Msg&data rates may apply. Reply STOP to end.',
];
const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'tomorrow', 'today'];
const TIMES = ['8:30am', '9:00am', '10:15am', '11:45am', '1:00pm', '2:30pm', '4:00pm', '6:15pm'];
const PEOPLE = ['Alvarez', 'Kim', 'Sam', 'Priya', 'Jordan', 'Nguyen', 'Morgan', 'Okafor'];
const CLASSES = ['Vinyasa', 'Spin', 'Bouldering 101', 'HIIT', 'Pilates', 'Yin'];
const PETS = ['Biscuit', 'Luna', 'Milo', 'Pepper', 'Mochi', 'Rex'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov'];
export const BODIES_PER_CUSTOMER = 32;

export const ORDINARY = [
  'Thanks!',
  'ok',
  'Ok thanks',
  'See you then',
  'Can I reschedule?',
  'C',
  'c',
  '👍',
  'Who is this?',
  'Running 10 min late',
  'What time again?',
  'Perfect, thank you',
  'Is this still on for tomorrow?',
  'Can you call me?',
];
export const OPT_OUT = [
  'STOP',
  'STOP',
  'stop',
  'Stop',
  ' STOP ',
  'STOP\n',
  'Unsubscribe',
  'cancel',
  'End',
  'QUIT',
  'STOPALL',
  'REVOKE',
  'optout',
];
export const OPT_IN = ['START', 'start', 'Yes', 'YES', 'UNSTOP'];
export const YES = ['YES', 'Yes', 'yes'];
export const HELP = ['HELP', 'help', 'info', 'INFO'];
/** Bodies that look like an opt-out but are not one; the scenario's test checks they occur. */
export const NEAR_MISS = [
  'STOP PLEASE',
  'stop.',
  'Stop!',
  'OPT OUT',
  'please stop texting me',
  'Stop it',
  'PLEASE CANCEL',
  'stahp',
  'UN SUBSCRIBE',
];

export function renderBody(
  template: string,
  biz: string,
  random: () => number,
  pick: <T>(items: readonly T[]) => T,
): string {
  const digits = (n: number) => String(Math.floor(random() * 10 ** n)).padStart(n, '0');
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    switch (name) {
      case 'biz':
        return biz;
      case 'day':
        return pick(DAYS);
      case 'time':
        return pick(TIMES);
      case 'date':
        return `${pick(MONTHS)} ${1 + Math.floor(random() * 28)}`;
      case 'person':
        return pick(PEOPLE);
      case 'class':
        return pick(CLASSES);
      case 'pet':
        return pick(PETS);
      case 'link':
        return `https://owlie.example/r/${digits(6)}`;
      case 'order':
        return digits(5);
      case 'code':
        return `${String.fromCharCode(65 + Math.floor(random() * 26))}${digits(3)}`;
      case 'gate':
        return String(1 + Math.floor(random() * 12));
      case 'party':
        return String(2 + Math.floor(random() * 6));
      case 'eta':
        return String(5 + Math.floor(random() * 40));
      default:
        return name;
    }
  });
}
