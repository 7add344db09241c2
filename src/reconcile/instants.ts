/** The later or earliest of instants, as the reconcile modules compare them. */

export const latest = (a: Date, b: Date) => (a.getTime() >= b.getTime() ? a : b);
export const earliest = (first: Date, ...others: Date[]) =>
  others.reduce((a, b) => (b.getTime() < a.getTime() ? b : a), first);
