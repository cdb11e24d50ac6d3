import { describe, expect, it } from 'vitest';
import { ContentUpdateQueue } from '../../../server/compositor/content-update-queue';

const ctx = { barrierActive: false, presentAt: 100n };

describe('content-update queue', () => {
  it('an unlocked update behind a locked one waits: updates apply strictly in order', () => {
    const q = new ContentUpdateQueue<string>();
    const a = q.push('a', 0n, false, null);
    q.lock(a, () => {});
    q.push('b', 1n, false, null);
    expect(q.takeReady(ctx, () => false)).toEqual([]);
    expect(q.unlock(a, 5n)).toBe(true);
    expect(q.takeReady(ctx, () => false).map((u) => u.state)).toEqual(['a', 'b']);
    expect(a.unlockedAt).toBe(5n);
  });

  it('a fifo barrier set by a latched update holds back the next wait_barrier update', () => {
    const q = new ContentUpdateQueue<string>();
    q.push('a', 0n, true, null);
    q.push('b', 0n, true, null);
    const taken = q.takeReady(ctx, () => true);
    expect(taken.map((u) => u.state)).toEqual(['a']);
    expect(q.takeReady(ctx, () => true).map((u) => u.state)).toEqual(['b']);
  });

  it('a commit-timing target holds the update until a frame presents at or after it', () => {
    const q = new ContentUpdateQueue<string>();
    q.push('a', 0n, false, 150n);
    expect(q.takeReady({ barrierActive: false, presentAt: 149n }, () => false)).toEqual([]);
    expect(q.takeReady({ barrierActive: false, presentAt: 150n }, () => false).length).toBe(1);
  });

  it('clear cancels every outstanding wait', () => {
    const q = new ContentUpdateQueue<string>();
    const a = q.push('a', 0n, false, null);
    let cancelled = 0;
    q.lock(a, () => cancelled++);
    q.lock(a, () => cancelled++);
    expect(q.clear().length).toBe(1);
    expect(cancelled).toBe(2);
    expect(q.length).toBe(0);
  });
});
