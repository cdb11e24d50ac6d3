/**
 * The add-only rule (kernel-sync.md §3, docs/kernel.md "The add-only
 * rule"), checked over random sequences of userspace operations.
 *
 * For every buffer R and usage U, let W_U(R) be the unsignaled fences in
 * R's reservation object with usage <= U. Across any userspace operation
 * that signals nothing (create, import, export, merge, close of a
 * sync_file), every fence f that was in W_U(R) before must afterwards
 * still be in W_U(R), or be covered by a fence g in W_U(R) that cannot
 * signal earlier: same context, g later than or the same as f.
 *
 * With legacyReplaceImport (the 2020 RFC) the property must fail, and
 * fast-check must find a sequence that breaks it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as dmaFence from '../../shared/kernel/dma-fence';
import type { DmaFence } from '../../shared/kernel/dma-fence';
import { unwrap } from '../../shared/kernel/dma-fence-unwrap';
import { dmaBufFromFile, type DmaBuf } from '../../shared/kernel/dma-buf';
import * as dmaResv from '../../shared/kernel/dma-resv';
import type { DmaResvUsage } from '../../shared/kernel/dma-resv';
import { syncFileGetFence } from '../../shared/kernel/sync-file';
import { allocBuf, createFence, exportSyncFile, importSyncFile, inc, machine, merge } from './sync-helpers';

const SEED = Number(process.env.FC_SEED ?? 20260422);
const RUNS = Number(process.env.FC_RUNS ?? 150);
const TIMELINES = 3;
const BUFFERS = 2;
const USAGES: readonly DmaResvUsage[] = [0, 1, 2, 3];

type Flags = 1 | 2 | 3;
type Op =
  | { k: 'create'; tl: number; ahead: number }
  | { k: 'inc'; tl: number; n: number }
  | { k: 'import'; buf: number; fd: number; flags: Flags }
  | { k: 'export'; buf: number; flags: Flags }
  | { k: 'merge'; a: number; b: number }
  | { k: 'close'; fd: number }
  /** A driver attaching work at any usage (KERNEL moves, BOOKKEEP jobs): setup, not userspace. */
  | { k: 'attach'; buf: number; fd: number; usage: DmaResvUsage };

const flagsArb = fc.constantFrom<Flags>(1, 2, 3);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ k: fc.constant('create' as const), tl: fc.nat(TIMELINES - 1), ahead: fc.nat(4) }), weight: 4 },
  { arbitrary: fc.record({ k: fc.constant('inc' as const), tl: fc.nat(TIMELINES - 1), n: fc.integer({ min: 1, max: 2 }) }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('import' as const), buf: fc.nat(BUFFERS - 1), fd: fc.nat(), flags: flagsArb }), weight: 4 },
  { arbitrary: fc.record({ k: fc.constant('export' as const), buf: fc.nat(BUFFERS - 1), flags: flagsArb }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('merge' as const), a: fc.nat(), b: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('close' as const), fd: fc.nat() }), weight: 1 },
  {
    arbitrary: fc.record({
      k: fc.constant('attach' as const),
      buf: fc.nat(BUFFERS - 1),
      fd: fc.nat(),
      usage: fc.constantFrom<DmaResvUsage>(0, 1, 2, 3),
    }),
    weight: 2,
  },
);

/** W_U(R): the unsignaled fences at usage <= U. */
function waitSet(buf: DmaBuf, usage: DmaResvUsage): DmaFence[] {
  return dmaResv.getFences(buf.resv, usage);
}

function covered(f: DmaFence, now: readonly DmaFence[]): boolean {
  return now.some((g) => g === f || (g.context === f.context && dmaFence.isLaterOrSame(g, f)));
}

/** Imports checked against a non-empty wait set: proof the property was not vacuous. */
let busyImports = 0;

/** Runs `ops`; returns a description of the first violation, or null. */
function run(ops: readonly Op[], legacyReplaceImport: boolean): string | null {
  const { p } = machine({ legacyReplaceImport });
  const heap = p.open('/dev/dma_heap/system');
  const bufFds = Array.from({ length: BUFFERS }, () => allocBuf(p, heap));
  const bufs = bufFds.map((fd) => dmaBufFromFile(p.fget(fd))!);
  const tls = Array.from({ length: TIMELINES }, () => p.open('/dev/sw_sync'));
  const values = tls.map(() => 0);
  const syncFds: number[] = [];
  const pick = (i: number): number | undefined => (syncFds.length ? syncFds[i % syncFds.length] : undefined);

  for (const [step, op] of ops.entries()) {
    const before = bufs.map((b) => USAGES.map((u) => waitSet(b, u)));
    if (op.k === 'import' && before[op.buf]!.some((w) => w.length > 0)) busyImports++;
    switch (op.k) {
      case 'create': {
        const fd = createFence(p, tls[op.tl]!, values[op.tl]! + op.ahead);
        if (fd >= 0) syncFds.push(fd);
        break;
      }
      case 'inc':
        inc(p, tls[op.tl]!, op.n);
        values[op.tl]! += op.n;
        continue; // signaling legitimately empties wait sets
      case 'import': {
        const fd = pick(op.fd);
        if (fd !== undefined && importSyncFile(p, bufFds[op.buf]!, op.flags, fd) !== 0) return `step ${step}: import failed`;
        break;
      }
      case 'export': {
        const fd = exportSyncFile(p, bufFds[op.buf]!, op.flags);
        if (fd >= 0) syncFds.push(fd);
        break;
      }
      case 'merge': {
        const a = pick(op.a);
        const b = pick(op.b);
        if (a !== undefined && b !== undefined) {
          const fd = merge(p, a, b);
          if (fd >= 0) syncFds.push(fd);
        }
        break;
      }
      case 'close': {
        const fd = pick(op.fd);
        if (fd !== undefined) {
          p.close(fd);
          syncFds.splice(syncFds.indexOf(fd), 1);
        }
        break;
      }
      case 'attach': {
        const fd = pick(op.fd);
        const fence = fd === undefined ? undefined : syncFileGetFence(p.fget(fd));
        if (fence) {
          const leaves = unwrap(fence);
          dmaResv.reserveFences(bufs[op.buf]!.resv, leaves.length);
          for (const f of leaves) dmaResv.addFence(bufs[op.buf]!.resv, f, op.usage);
        }
        break;
      }
    }
    for (const [bi, b] of bufs.entries()) {
      for (const u of USAGES) {
        const now = waitSet(b, u);
        for (const f of before[bi]![u]!) {
          if (!dmaFence.isSignaled(f) && !covered(f, now)) {
            return `step ${step} (${JSON.stringify(op)}): buffer ${bi} lost pending fence ${f.id} (context ${f.context}, seqno ${f.seqno}) at usage ${u}`;
          }
        }
      }
    }
  }
  return null;
}

describe('the add-only rule for DMA_BUF_IOCTL_IMPORT_SYNC_FILE', () => {
  it(`no userspace operation shrinks what a waiter at any usage must wait for (seed ${SEED})`, () => {
    busyImports = 0;
    try {
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 10, maxLength: 50 }), (ops) => {
          const violation = run(ops, false);
          if (violation) throw new Error(violation);
        }),
        { seed: SEED, numRuns: RUNS },
      );
    } catch (e) {
      throw new Error(`add-only property failed (seed ${SEED}; rerun with FC_SEED=${SEED}): ${String(e)}`);
    }
    expect(busyImports).toBeGreaterThan(RUNS);
  });

  it(`with legacyReplaceImport the same property fails, and fast-check finds how (seed ${SEED})`, () => {
    const out = fc.check(
      fc.property(fc.array(opArb, { minLength: 10, maxLength: 50 }), (ops) => run(ops, true) === null),
      { seed: SEED, numRuns: RUNS },
    );
    expect(out.failed, `no counterexample found with seed ${SEED}`).toBe(true);
    const example = out.counterexample?.[0];
    expect(example).toBeDefined();
    // The shrunk counterexample breaks the rule through an import.
    const violation = run(example!, true) ?? '';
    if (process.env.FC_VERBOSE) console.log(JSON.stringify(example), violation, out.numRuns);
    expect(violation).toMatch(/"k":"import"/);
  });
});
