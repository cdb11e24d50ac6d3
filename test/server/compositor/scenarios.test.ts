import { describe, expect, it } from 'vitest';
import { Harness } from './harness';
import type { HeadlessClient, SyncKind } from '../../../client/node/headless-client';
import type { LatchPolicy } from '../../../server/compositor/types';

const MS = 1_000_000n;

async function scene(policy: LatchPolicy, kinds: { kind: SyncKind; renderNs: bigint; name: string }[], runNs: bigint) {
  const h = new Harness({ policy });
  const clients: HeadlessClient[] = [];
  for (const k of kinds) clients.push(await h.client({ ...k }));
  await h.run(runNs);
  return { h, clients };
}

function surfaceStats(h: Harness) {
  return [...h.compositor.surfaces.values()].map((s) => ({ title: s.role.kind === 'xdg_toplevel' ? s.role.title : '', ...s.stats }));
}

describe('sync paths end to end', () => {
  for (const kind of ['explicit', 'explicit-fd', 'implicit', 'bridged'] as const) {
    it(`a ${kind} client is presented every frame with zero hazards (cpu-wait)`, async () => {
      const { h, clients } = await scene('cpu-wait', [{ kind, renderNs: 3n * MS, name: kind }], 300n * MS);
      const c = clients[0]!;
      expect(c.stats.errors).toBe(0);
      expect(c.stats.committed).toBeGreaterThan(20);
      expect(c.stats.presented).toBeGreaterThan(20);
      expect(h.hazards()).toBe(0);
    });
  }

  it('the naive client produces hazards, each explained', async () => {
    const { h } = await scene('cpu-wait', [{ kind: 'naive', renderNs: 9n * MS, name: 'naive' }], 200n * MS);
    const hz = h.compositor.validator.hazards;
    expect(hz.length).toBeGreaterThan(0);
    for (const x of hz) expect(x.explanation.length).toBeGreaterThan(10);
  });
});

describe('latch policy', () => {
  const kinds = [
    { kind: 'implicit' as const, renderNs: 35n * MS, name: 'slow' },
    { kind: 'explicit' as const, renderNs: 1n * MS, name: 'fast-a' },
    { kind: 'implicit' as const, renderNs: 1n * MS, name: 'fast-b' },
  ];

  it('under gpu-wait a slow implicit client makes the other surfaces miss frames', async () => {
    const { h } = await scene('gpu-wait', kinds, 500n * MS);
    const stats = surfaceStats(h);
    const fast = stats.filter((s) => s.title.startsWith('fast'));
    for (const s of fast) expect(s.missed).toBeGreaterThan(5);
    expect(h.compositor.output.stats.missed).toBeGreaterThan(5);
  });

  it('under cpu-wait the same slow client does not make the others miss', async () => {
    const { h } = await scene('cpu-wait', kinds, 500n * MS);
    const stats = surfaceStats(h);
    for (const s of stats.filter((x) => x.title.startsWith('fast'))) {
      expect(s.missed).toBe(0);
      expect(s.presented).toBeGreaterThan(40);
    }
    expect(h.compositor.output.stats.missed).toBe(0);
    expect(h.hazards()).toBe(0);
  });

  it('policy none latches at once and the validator sees the reads race the writes', async () => {
    const { h } = await scene('none', [{ kind: 'explicit', renderNs: 9n * MS, name: 'e' }], 200n * MS);
    expect(h.hazards()).toBeGreaterThan(0);
  });
});
