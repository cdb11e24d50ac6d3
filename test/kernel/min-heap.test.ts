import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as minHeap from '../../shared/kernel/min-heap';
import { NUMBER_ASCENDING, type MinHeapCallbacks } from '../../shared/kernel/min-heap';

const SEED = 20260423;

/** An element with a key that ties and an arrival number that breaks the tie, and its index. */
interface Item {
  readonly key: number;
  readonly seq: number;
  pos: number;
}

const ORDER: MinHeapCallbacks<Item> = {
  less: (a, b) => a.key < b.key || (a.key === b.key && a.seq < b.seq),
  moved: (x, i) => {
    x.pos = i;
  },
};

/** Operations on a heap: push a key, pop, or delete the k-th live element (by arrival). */
type Op = { push: number } | { pop: true } | { del: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ push: fc.integer({ min: 0, max: 5 }) }),
  fc.record({ pop: fc.constant(true as const) }),
  fc.record({ del: fc.nat() }),
);

describe('min-heap', () => {
  it('pops numbers in ascending order, duplicates included', () => {
    const h: number[] = [];
    for (const n of [5, 3, 9, 3, 0, 7, 3]) minHeap.push(h, n, NUMBER_ASCENDING);
    const out: number[] = [];
    for (let n = minHeap.pop(h, NUMBER_ASCENDING); n !== undefined; n = minHeap.pop(h, NUMBER_ASCENDING)) out.push(n);
    expect(out).toEqual([0, 3, 3, 3, 5, 7, 9]);
    expect(minHeap.pop(h, NUMBER_ASCENDING)).toBeUndefined();
  });

  it('matches a sorted list under push, pop and delete, and reports every index', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const h: Item[] = [];
        let model: Item[] = [];
        let seq = 0;
        for (const op of ops) {
          if ('push' in op) {
            const x: Item = { key: op.push, seq: seq++, pos: -1 };
            minHeap.push(h, x, ORDER);
            model.push(x);
          } else if ('pop' in op) {
            model.sort((a, b) => (ORDER.less(a, b) ? -1 : 1));
            expect(minHeap.pop(h, ORDER)).toBe(model.shift());
          } else if (model.length > 0) {
            const x = model[op.del % model.length] as Item;
            minHeap.del(h, x.pos, ORDER);
            model = model.filter((y) => y !== x);
          }
          expect(h.length).toBe(model.length);
          h.forEach((x, i) => expect(x.pos).toBe(i));
          model.sort((a, b) => (ORDER.less(a, b) ? -1 : 1));
          expect(minHeap.peek(h)).toBe(model[0]);
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});
