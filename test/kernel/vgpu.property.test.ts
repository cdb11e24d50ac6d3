/**
 * Implicit sync end to end, over random sequences: two processes share
 * buffers, submit implicitly synced GPU jobs on shared and private rings,
 * import already-signaled sync_files into the buffers (the hostile move of
 * König's scenario), close their fds, and new processes open the GPU
 * (page tables). With the merged, add-only import the sync validator must
 * see no hazard at all: no read or write ever overlaps an earlier
 * conflicting access, and no job ever touches freed pages. With the 2020
 * replace-import fast-check must find a sequence that breaks it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dmaBufFromFile } from '../../shared/kernel/dma-buf';
import { DmaResvUsage, getFences } from '../../shared/kernel/dma-resv';
import { SyncValidator } from '../../shared/kernel/sync-validator';
import { DMA_BUF_IOCTL_IMPORT_SYNC_FILE, DMA_BUF_SYNC_READ, DMA_BUF_SYNC_WRITE } from '../../shared/kernel/uapi';
import { VGPU_BO_READ, VGPU_BO_WRITE } from '../../shared/kernel/vgpu-drm';
import { MS, alloc, client, ringNew, setup, submitOk, swFence } from './vgpu-helpers';

const SEED = Number(process.env.FC_SEED ?? 20260423);
const RUNS = Number(process.env.FC_RUNS ?? 120);

type Op =
  | { k: 'alloc'; pages: number }
  | { k: 'submit'; proc: number; own: boolean; bos: { b: number; w: boolean }[]; ms: number }
  | { k: 'import'; proc: number; b: number; w: boolean }
  /** Both processes close their fds of buffer b: its last references. */
  | { k: 'close'; b: number }
  | { k: 'open' }
  | { k: 'advance'; ms: number };

const proc = fc.integer({ min: 0, max: 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ k: fc.constant('alloc' as const), pages: fc.integer({ min: 1, max: 3 }) }) },
  {
    weight: 5,
    arbitrary: fc.record({
      k: fc.constant('submit' as const),
      proc,
      own: fc.boolean(),
      bos: fc.array(fc.record({ b: fc.integer({ min: 0, max: 3 }), w: fc.boolean() }), { minLength: 1, maxLength: 2 }),
      ms: fc.integer({ min: 1, max: 30 }),
    }),
  },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('import' as const), proc, b: fc.integer({ min: 0, max: 3 }), w: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('close' as const), b: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('open' as const) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 10 }) }) },
);

/** How often a run imported into, or dropped, a buffer a job was still using. */
let busyImports = 0;
let busyCloses = 0;

/** Run the ops; returns the validator's hazards (kinds) once everything finished. */
function run(ops: readonly Op[], legacyReplaceImport: boolean): string[] {
  const { kernel, clock } = setup({ legacyReplaceImport });
  const v = new SyncValidator(kernel);
  const procs = [client(kernel, 'a'), client(kernel, 'b')].map((c) => {
    const done = swFence(c.p);
    done.signal();
    return { ...c, ring: ringNew(c.p, c.drm, `ring-${c.p.comm}`), signaled: done.fd };
  });
  /** fds[buffer][proc], -1 once closed. */
  const fds: number[][] = [];
  const share = (pages: number): void => {
    const [a, b] = procs as [(typeof procs)[0], (typeof procs)[0]];
    const fd = alloc(a.p, a.heap, BigInt(pages) * 4096n);
    fds.push([fd, b.p.receiveFd(a.p, fd)]);
  };
  share(1);
  share(2);
  /** A job's fence is still pending on buffer b. */
  const busy = (b: number): boolean => {
    const i = fds[b]?.findIndex((fd) => fd >= 0) ?? -1;
    const buf = dmaBufFromFile(procs[i]?.p.fget(fds[b]?.[i] ?? -1));
    return buf !== undefined && getFences(buf.resv, DmaResvUsage.BOOKKEEP).length > 0;
  };
  for (const op of ops) {
    switch (op.k) {
      case 'alloc':
        if (fds.length < 4) share(op.pages);
        break;
      case 'submit': {
        const c = procs[op.proc];
        if (!c) break;
        const bos = op.bos.flatMap(({ b, w }) => {
          const fd = fds[b]?.[op.proc] ?? -1;
          return fd >= 0 ? [{ fd, flags: w ? VGPU_BO_WRITE : VGPU_BO_READ }] : [];
        });
        if (bos.length === 0) break;
        submitOk(c.p, c.drm, { ring: op.own ? c.ring : 0, bos, duration_ns: BigInt(op.ms) * MS });
        break;
      }
      case 'import': {
        const c = procs[op.proc];
        const fd = fds[op.b]?.[op.proc] ?? -1;
        if (!c || fd < 0) break;
        const flags = op.w ? DMA_BUF_SYNC_WRITE : DMA_BUF_SYNC_READ;
        if (busy(op.b)) busyImports++;
        expect(c.p.ioctl(fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, { flags, fd: c.signaled })).toBe(0);
        break;
      }
      case 'close': {
        const row = fds[op.b];
        if (!row) break;
        if (busy(op.b)) busyCloses++;
        row.forEach((fd, i) => {
          if (fd >= 0) expect(procs[i]?.p.close(fd)).toBe(0);
          row[i] = -1;
        });
        break;
      }
      case 'open':
        expect(kernel.spawn('victim').open('/dev/dri/card0')).toBeGreaterThanOrEqual(0);
        break;
      case 'advance':
        clock.advance(BigInt(op.ms) * MS);
        break;
    }
  }
  clock.advance(10_000n * MS);
  expect(kernel.vgpu.rings().every((r) => r.queued === 0)).toBe(true);
  return v.hazards.map((h) => h.kind);
}

describe('implicit sync through the vgpu', () => {
  it(`implicitly synced jobs never race and never touch freed pages, whatever userspace imports or closes (seed ${SEED})`, () => {
    busyImports = 0;
    busyCloses = 0;
    try {
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 5, maxLength: 40, size: 'max' }), (ops) => {
          expect(run(ops, false)).toEqual([]);
        }),
        { seed: SEED, numRuns: RUNS },
      );
    } catch (e) {
      throw new Error(`vgpu implicit-sync property failed (seed ${SEED}; rerun with FC_SEED=${SEED}): ${String(e)}`);
    }
    // The runs did exercise the dangerous moves, many times.
    if (process.env.FC_VERBOSE) console.log({ busyImports, busyCloses });
    expect(busyImports).toBeGreaterThan(RUNS / 2);
    expect(busyCloses).toBeGreaterThan(RUNS / 4);
  });

  it(`with legacyReplaceImport fast-check finds a use-after-free (seed ${SEED})`, () => {
    const out = fc.check(
      fc.property(fc.array(opArb, { minLength: 5, maxLength: 40, size: 'max' }), (ops) => !run(ops, true).includes('use-after-free')),
      { seed: SEED, numRuns: RUNS },
    );
    expect(out.failed, `no counterexample found with seed ${SEED}`).toBe(true);
  });
});
