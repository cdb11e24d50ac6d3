/**
 * When updates reach the screen and what the client is told:
 * wp_presentation_feedback.presented (vblank time, refresh, MSC, vsync
 * only) and discarded; wp_fifo_v1 (at most one wait_barrier update per
 * refresh); wp_commit_timing_v1 (not before the target time, updates in
 * order) and the errors of both extensions.
 */
import { describe, expect, it } from 'vitest';
import { Harness, type TestClient } from './harness';
import { wpPresentationInterface } from '../../../shared/protocol/generated/presentation-time';
import { wpFifoManagerV1Interface } from '../../../shared/protocol/generated/fifo-v1';
import { wpCommitTimingManagerV1Interface } from '../../../shared/protocol/generated/commit-timing-v1';
import type { Proxy } from '../../../shared/protocol/client';
import { makeBuffer, ofType, openWindow, recordTrace, type TestBuffer, type Window } from './explicit-helpers';

const MS = 1_000_000n;
const SEC = 1_000_000_000n;
const PERIOD = 10n * MS; // 100 Hz

interface Result {
  tag: string;
  kind: 'presented' | 'discarded';
  /** Presented: tv_sec * 1e9 + tv_nsec. */
  at?: bigint;
  refresh?: number;
  seq?: bigint;
  flags?: number;
}

interface Client {
  c: TestClient;
  w: Window;
  presentation: Proxy<'wp_presentation'>;
  clockIds: number[];
  buffers: TestBuffer[];
  results: Result[];
  commits: number;
}

async function client(h: Harness, name = 'client'): Promise<Client> {
  const c = await h.connect(name);
  const w = openWindow(c);
  const clockIds: number[] = [];
  const presentation = c.env.bind(wpPresentationInterface, 2);
  presentation.setListener({ clockId: (id) => clockIds.push(id) });
  const buffers = [makeBuffer(c), makeBuffer(c), makeBuffer(c), makeBuffer(c)];
  await h.run(20n * MS); // the initial commit is presented
  return { c, w, presentation, clockIds, buffers, results: [], commits: 0 };
}

/** Attach the next buffer, ask for feedback, run `extra` on the pending state, commit. */
function commit(s: Client, tag: string, extra: () => void = () => {}): void {
  const buf = s.buffers[s.commits++ % s.buffers.length]!;
  s.presentation.send.feedback(s.w.surface).setListener({
    presented: (secHi, secLo, nsec, refresh, seqHi, seqLo, flags) =>
      s.results.push({
        tag,
        kind: 'presented',
        at: ((BigInt(secHi) << 32n) | BigInt(secLo)) * SEC + BigInt(nsec),
        refresh,
        seq: (BigInt(seqHi) << 32n) | BigInt(seqLo),
        flags,
      }),
    discarded: () => s.results.push({ tag, kind: 'discarded' }),
  });
  s.w.surface.send.attach(buf.proxy, 0, 0);
  extra();
  s.w.surface.send.commit();
  s.c.env.flush();
}

const byTag = (s: Client, tag: string): Result | undefined => s.results.find((r) => r.tag === tag);

describe('wp_presentation_feedback', () => {
  it('presented carries the flip: its vblank time (past 2^32 s), the period, the vblank sequence, vsync only', async () => {
    const h = new Harness({ autoStart: false });
    // Start the display late on the clock so tv_sec needs its high word.
    h.clock.advanceTo((2n ** 32n + 5n) * SEC + 123_456_789n);
    h.compositor.output.start();
    const s = await client(h);
    expect(s.clockIds).toEqual([1]); // CLOCK_MONOTONIC
    const events = recordTrace(h);
    commit(s, 'a');
    await h.run(30n * MS);
    const r = byTag(s, 'a');
    const flip = ofType(events, 'output.vblank').find((e) => e.flip);
    expect(flip).toBeDefined();
    expect(r).toEqual({ tag: 'a', kind: 'presented', at: flip!.t, refresh: Number(PERIOD), seq: BigInt(flip!.seq), flags: 0x1 });
    expect(r!.at! / SEC >> 32n).toBe(1n);
    expect(flip!.t).toBe(h.compositor.output.lastVblankAt - (h.compositor.output.seq - BigInt(flip!.seq)) * PERIOD);
  });

  it('one commit per frame: each is presented one vblank and one period after the last', async () => {
    const h = new Harness();
    const s = await client(h);
    for (let i = 0; i < 5; i++) {
      commit(s, `f${i}`);
      await h.run(PERIOD, 1n * MS);
    }
    await h.run(20n * MS);
    const shown = s.results.filter((r) => r.kind === 'presented');
    expect(shown).toHaveLength(5);
    for (let i = 1; i < shown.length; i++) {
      expect(shown[i]!.seq! - shown[i - 1]!.seq!).toBe(1n);
      expect(shown[i]!.at! - shown[i - 1]!.at!).toBe(PERIOD);
    }
    for (const r of shown) expect(r.at! % PERIOD).toBe(0n); // vblank instants, not latch or commit times
  });

  it('updates superseded before a latch are discarded; the last one is presented; frame callbacks fire for all', async () => {
    const h = new Harness();
    const s = await client(h);
    const done: string[] = [];
    for (const tag of ['a', 'b', 'c']) {
      s.w.surface.send.frame().setListener({ done: () => done.push(tag) });
      commit(s, tag);
    }
    await h.run(20n * MS);
    expect(s.results.map((r) => `${r.tag} ${r.kind}`)).toEqual(['a discarded', 'b discarded', 'c presented']);
    expect(done.sort()).toEqual(['a', 'b', 'c']);
  });
});

describe('wp_fifo_v1', () => {
  it('at most one wait_barrier update is latched per refresh: a burst of four shows on four consecutive vblanks', async () => {
    const h = new Harness();
    const s = await client(h);
    const fifo = s.c.env.bind(wpFifoManagerV1Interface, 1).send.getFifo(s.w.surface);
    for (const tag of ['a', 'b', 'c', 'd']) {
      commit(s, tag, () => {
        fifo.send.waitBarrier();
        fifo.send.setBarrier();
      });
    }
    await h.run(80n * MS);
    expect(s.results.map((r) => `${r.tag} ${r.kind}`)).toEqual(['a presented', 'b presented', 'c presented', 'd presented']);
    const seqs = s.results.map((r) => r.seq!);
    expect(seqs.map((q) => q - seqs[0]!)).toEqual([0n, 1n, 2n, 3n]);
  });

  it('without the barrier the same burst collapses into one frame (the control)', async () => {
    const h = new Harness();
    const s = await client(h);
    for (const tag of ['a', 'b', 'c', 'd']) commit(s, tag);
    await h.run(80n * MS);
    expect(s.results.map((r) => `${r.tag} ${r.kind}`)).toEqual(['a discarded', 'b discarded', 'c discarded', 'd presented']);
  });

  it('an update without wait_barrier is not held by the barrier', async () => {
    const h = new Harness();
    const s = await client(h);
    const fifo = s.c.env.bind(wpFifoManagerV1Interface, 1).send.getFifo(s.w.surface);
    commit(s, 'a', () => fifo.send.setBarrier());
    commit(s, 'b');
    await h.run(30n * MS);
    expect(s.results.map((r) => `${r.tag} ${r.kind}`)).toEqual(['a discarded', 'b presented']);
  });

  it('already_exists: a second wp_fifo_v1 for one surface ends only that client', async () => {
    const h = new Harness();
    const s = await client(h, 'offender');
    const other = await client(h, 'bystander');
    const mgr = s.c.env.bind(wpFifoManagerV1Interface, 1);
    mgr.send.getFifo(s.w.surface);
    mgr.send.getFifo(s.w.surface);
    s.c.env.flush();
    await h.settle();
    expect(s.c.conn.error).toMatchObject({ kind: 'protocol', interface: 'wp_fifo_manager_v1', code: 0 });
    const rt = other.c.env.roundtrip();
    await h.settle();
    await expect(rt).resolves.toBeTypeOf('number');
  });

  it('surface_destroyed: set_barrier after the wl_surface is gone', async () => {
    const h = new Harness();
    const s = await client(h);
    const fifo = s.c.env.bind(wpFifoManagerV1Interface, 1).send.getFifo(s.w.surface);
    s.w.surface.send.destroy();
    fifo.send.setBarrier();
    s.c.env.flush();
    await h.settle();
    expect(s.c.conn.error).toMatchObject({ kind: 'protocol', interface: 'wp_fifo_v1', code: 0 });
  });
});

describe('wp_commit_timing_v1', () => {
  function setTarget(timer: Proxy<'wp_commit_timer_v1'>, ns: bigint): void {
    const sec = ns / SEC;
    timer.send.setTimestamp(Number(sec >> 32n), Number(sec & 0xffff_ffffn), Number(ns % SEC));
  }

  it('an update with a target time is presented at the first vblank at or after it, not before', async () => {
    const h = new Harness();
    const s = await client(h);
    const timer = s.c.env.bind(wpCommitTimingManagerV1Interface, 1).send.getTimer(s.w.surface);
    const target = h.clock.now() + 55n * MS + 300_000n;
    commit(s, 'a', () => setTarget(timer, target));
    await h.run(45n * MS);
    expect(s.results).toEqual([]);
    await h.run(40n * MS);
    const r = byTag(s, 'a');
    expect(r?.kind).toBe('presented');
    expect(r!.at!).toBeGreaterThanOrEqual(target);
    expect(r!.at! - target).toBeLessThan(PERIOD);
  });

  it('updates stay in order: a later commit without a target is not shown before the earlier target', async () => {
    const h = new Harness();
    const s = await client(h);
    const timer = s.c.env.bind(wpCommitTimingManagerV1Interface, 1).send.getTimer(s.w.surface);
    const target = h.clock.now() + 42n * MS;
    commit(s, 'a', () => setTarget(timer, target));
    commit(s, 'b');
    await h.run(80n * MS);
    expect(s.results).toHaveLength(2);
    const b = byTag(s, 'b');
    expect(b?.kind).toBe('presented');
    expect(b!.at!).toBeGreaterThanOrEqual(target);
  });

  it('a target already in the past is presented at the next vblank', async () => {
    const h = new Harness();
    const s = await client(h);
    const timer = s.c.env.bind(wpCommitTimingManagerV1Interface, 1).send.getTimer(s.w.surface);
    const now = h.clock.now();
    commit(s, 'a', () => setTarget(timer, now - 5n * MS));
    await h.run(20n * MS);
    const r = byTag(s, 'a');
    expect(r?.kind).toBe('presented');
    expect(r!.at! - now).toBeLessThanOrEqual(PERIOD);
  });

  const errors: [string, string, number, (s: Client, timer: Proxy<'wp_commit_timer_v1'>) => void][] = [
    ['invalid_timestamp: tv_nsec of a whole second', 'wp_commit_timer_v1', 0, (_s, t) => t.send.setTimestamp(0, 1, 1_000_000_000)],
    [
      'timestamp_exists: two timestamps for one commit',
      'wp_commit_timer_v1',
      1,
      (_s, t) => {
        t.send.setTimestamp(0, 1, 0);
        t.send.setTimestamp(0, 2, 0);
      },
    ],
    [
      'surface_destroyed: set_timestamp after the wl_surface is gone',
      'wp_commit_timer_v1',
      2,
      (s, t) => {
        s.w.surface.send.destroy();
        t.send.setTimestamp(0, 1, 0);
      },
    ],
    ['commit_timer_exists: a second timer for one surface', 'wp_commit_timing_manager_v1', 0, (s) => s.c.env.bind(wpCommitTimingManagerV1Interface, 1).send.getTimer(s.w.surface)],
  ];
  for (const [title, iface, code, act] of errors) {
    it(`${title} ends only the offender`, async () => {
      const h = new Harness();
      const s = await client(h, 'offender');
      const other = await client(h, 'bystander');
      const timer = s.c.env.bind(wpCommitTimingManagerV1Interface, 1).send.getTimer(s.w.surface);
      act(s, timer);
      s.c.env.flush();
      await h.settle();
      expect(s.c.conn.error).toMatchObject({ kind: 'protocol', interface: iface, code });
      const rt = other.c.env.roundtrip();
      await h.settle();
      await expect(rt).resolves.toBeTypeOf('number');
      expect(other.c.conn.error).toBeNull();
    });
  }
});
