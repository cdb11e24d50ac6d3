/**
 * A test device for the kernel channel, independent of the real drivers:
 * /dev/test answers a struct ioctl (in → out fields), a blocking ioctl that
 * resolves when the test says so, and poll readiness the test flips.
 */
import { allocFile, ioctlTable, structIoctl, u32Ioctl, type FileOps, type PollTable } from '../../shared/kernel/file';
import { Kernel } from '../../shared/kernel/kernel';
import { ManualClock } from '../../shared/kernel/clock';
import { POLLIN } from '../../shared/kernel/uapi';

export const TEST_IOC_FILL = 0xc0185400;
export const TEST_IOC_WAIT = 0xc0045401;
export const TEST_IOC_READY = 0x40045402;

const fillSchema = { in: 'u32', out: 's32', big: 'u64', list: 'u64[]' } as const;

export interface TestDevice {
  ready: boolean;
  waiters: ((r: number) => void)[];
  wakers: Set<PollTable>;
}

export function testKernel(): { kernel: Kernel; clock: ManualClock; dev: TestDevice } {
  const clock = new ManualClock();
  const kernel = new Kernel({ clock, limits: { maxFds: 64 } });
  const dev: TestDevice = { ready: false, waiters: [], wakers: new Set() };
  const table = ioctlTable<TestDevice>([
    structIoctl(TEST_IOC_FILL, fillSchema, (_d, _p, arg) => {
      arg.out = -arg.in;
      arg.big = arg.big + 1n;
      arg.list = arg.list.map((v) => v * 2n);
      return 7;
    }),
    structIoctl(TEST_IOC_WAIT, { value: 'u32' }, (d, _p, arg) => new Promise<number>((resolve) => {
      d.waiters.push((r) => {
        arg.value = r;
        resolve(0);
      });
    })),
    u32Ioctl(TEST_IOC_READY, (d, _p, v) => {
      d.ready = v !== 0;
      for (const pt of [...d.wakers]) pt.wake();
      return 0;
    }),
  ]);
  const ops: FileOps = {
    name: 'test',
    ioctl: (file, proc, request, arg) => {
      const desc = table.get(request);
      return desc ? desc.invoke(file.priv as TestDevice, proc, arg) : -25;
    },
    poll: (_file, events, pt) => {
      if (pt) {
        dev.wakers.add(pt);
        pt.onCancel(() => dev.wakers.delete(pt));
      }
      return dev.ready ? events & POLLIN : 0;
    },
  };
  kernel.registerDevice('/dev/test', () => allocFile(ops, dev));
  return { kernel, clock, dev };
}
