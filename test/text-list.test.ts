import { describe, expect, it } from 'vitest';

import { firstFew } from '../src/text-list.js';

describe('firstFew', () => {
  it('names all of a few, and the first of many followed by an ellipsis', () => {
    expect(firstFew([], 3)).toBe('');
    expect(firstFew(['a', 'b', 'c'], 3)).toBe('a, b, c');
    expect(firstFew(['a', 'b', 'c', 'd'], 3)).toBe('a, b, c, …');
  });

  it('says each shown item as told, and only those', () => {
    const said: number[] = [];
    const name = (n: number) => {
      said.push(n);
      return `#${n}`;
    };
    expect(firstFew([1, 2, 3, 4, 5, 6], 2, name)).toBe('#1, #2, …');
    expect(said).toEqual([1, 2]);
  });
});
