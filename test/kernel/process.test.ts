import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Kernel } from '../../shared/kernel/kernel';
import { ManualClock } from '../../shared/kernel/clock';
import { EBADF, EMFILE } from '../../shared/kernel/errno';
import { POLLIN, POLLNVAL, SW_SYNC_IOC_CREATE_FENCE, SW_SYNC_IOC_INC } from '../../shared/kernel/uapi';

const SEED = 20261124;

describe('process fd table', () => {
  it('fds are always the lowest free number (alloc_fd), over random open/dup/close', () => {
    const op = fc.oneof(
      fc.constant({ kind: 'open' as const }),
      fc.record({ kind: fc.constant('dup' as const), pick: fc.nat(40) }),
      fc.record({ kind: fc.constant('close' as const), pick: fc.nat(40) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const k = new Kernel({ clock: new ManualClock(), limits: { maxFds: 24 } });
        const p = k.spawn('fds');
        const open = new Set<number>();
        const lowestFree = (): number => {
          let fd = 0;
          while (open.has(fd)) fd++;
          return fd;
        };
        for (const o of ops) {
          if (o.kind === 'open') {
            const want = lowestFree();
            const fd = p.open('/dev/sw_sync');
            expect(fd).toBe(want < 24 ? want : -EMFILE);
            if (fd >= 0) open.add(fd);
          } else if (o.kind === 'dup') {
            const src = o.pick;
            const want = open.has(src) ? (lowestFree() < 24 ? lowestFree() : -EMFILE) : -EBADF;
            const fd = p.dup(src);
            expect(fd).toBe(want);
            if (fd >= 0) open.add(fd);
          } else {
            expect(p.close(o.pick)).toBe(open.has(o.pick) ? 0 : -EBADF);
            open.delete(o.pick);
          }
        }
        expect(p.fdCount).toBe(open.size);
      }),
      { seed: SEED, numRuns: 200, verbose: true },
    );
  });

  it('watch fires once when the fd becomes readable, and not after cancel', () => {
    const k = new Kernel({ clock: new ManualClock() });
    const p = k.spawn('w');
    const tl = p.open('/dev/sw_sync');
    const cf = { value: 1, name: 'f', fence: -1 };
    p.ioctl(tl, SW_SYNC_IOC_CREATE_FENCE, cf);
    const seen: number[] = [];
    p.watch(cf.fence, POLLIN, (r) => seen.push(r));
    const cancel = p.watch(cf.fence, POLLIN, () => seen.push(-1));
    cancel();
    // The watch holds the file: closing the fd does not stop it.
    p.close(cf.fence);
    expect(seen).toEqual([]);
    p.ioctl(tl, SW_SYNC_IOC_INC, 1);
    expect(seen).toEqual([POLLIN]);
    expect(p.watch(99, POLLIN, (r) => seen.push(r))).toBeTypeOf('function');
    expect(seen).toEqual([POLLIN, POLLNVAL]);
  });

  it('exit closes every fd and pending sw_sync points signal with -ENOENT', async () => {
    const k = new Kernel({ clock: new ManualClock() });
    const a = k.spawn('a');
    const b = k.spawn('b');
    const tl = a.open('/dev/sw_sync');
    const cf = { value: 5, name: 'f', fence: -1 };
    a.ioctl(tl, SW_SYNC_IOC_CREATE_FENCE, cf);
    const theirs = b.receiveFd(a, cf.fence);
    a.exit();
    expect(a.fdCount).toBe(0);
    expect(await b.poll([{ fd: theirs, events: POLLIN, revents: 0 }], 0)).toBe(1);
  });
});
