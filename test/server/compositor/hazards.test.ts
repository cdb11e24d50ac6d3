/**
 * The sync validator over whole sessions: the safe client kinds (drm-syncobj,
 * sync_file, implicit, and explicit-bridged-to-implicit as Mesa's WSI does)
 * never race the compositor, alone or together, over hundreds of frames;
 * the naive client (ignores release) does, and only its buffers are blamed.
 */
import { describe, expect, it } from 'vitest';
import { Harness } from './harness';
import type { HeadlessClient, SyncKind } from '../../../client/node/headless-client';
import type { LatchPolicy } from '../../../server/compositor/types';
import { ofType, recordTrace } from './explicit-helpers';

const MS = 1_000_000n;
const SAFE: readonly SyncKind[] = ['explicit', 'explicit-fd', 'implicit', 'bridged'];

async function session(policy: LatchPolicy, kinds: readonly SyncKind[], renderNs: bigint) {
  const h = new Harness({ policy });
  const events = recordTrace(h);
  const clients: HeadlessClient[] = [];
  for (const kind of kinds) clients.push(await h.client({ kind, name: kind, renderNs }));
  return { h, events, clients };
}

function hazardReport(h: Harness): string {
  return h.compositor.validator.hazards.map((z) => `${z.kind}: ${z.explanation}`).join('\n');
}

describe('safe clients never produce hazards', () => {
  it('all safe kinds together for 300 frames at 100 Hz under cpu-wait', async () => {
    const { h, clients } = await session('cpu-wait', SAFE, 4n * MS);
    await h.run(3000n * MS, 1_000_000n);
    expect(hazardReport(h)).toBe('');
    for (const c of clients) {
      expect(c.stats.errors).toBe(0);
      expect(c.stats.presented).toBeGreaterThan(250);
    }
    expect(h.compositor.output.stats.flips).toBeGreaterThan(280);
  });

  it('all safe kinds together under gpu-wait, with renders longer than a frame', async () => {
    const { h, clients } = await session('gpu-wait', SAFE, 12n * MS);
    await h.run(1000n * MS, 1_000_000n);
    expect(hazardReport(h)).toBe('');
    for (const c of clients) {
      expect(c.stats.errors).toBe(0);
      expect(c.stats.presented).toBeGreaterThan(20);
    }
  });
});

describe('the naive client', () => {
  it('produces hazards among safe clients, every one of them on its own buffers', async () => {
    const { h, events, clients } = await session('cpu-wait', [...SAFE, 'naive'], 9n * MS);
    await h.run(300n * MS, 1_000_000n);
    const hazards = h.compositor.validator.hazards;
    expect(hazards.length).toBeGreaterThan(0);
    const naivePid = ofType(events, 'client.connect').find((e) => e.name === 'naive')?.pid;
    const naiveBufs = new Set(ofType(events, 'dmabuf.alloc').filter((e) => e.pid === naivePid).map((e) => e.buf));
    expect(naiveBufs.size).toBe(3);
    for (const z of hazards) expect(naiveBufs.has(z.buf)).toBe(true);
    for (const c of clients) expect(c.stats.errors).toBe(0);
  });
});
