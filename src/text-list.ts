/**
 * The first `shown` of `items`, each as `name` says it, joined by commas, with `, …` when there
 * are more: how a message names a few of many (the count is said beside it).
 */
export function firstFew<T>(
  items: readonly T[],
  shown: number,
  name: (item: T) => string = String,
): string {
  return `${items.slice(0, shown).map(name).join(', ')}${items.length > shown ? ', …' : ''}`;
}
