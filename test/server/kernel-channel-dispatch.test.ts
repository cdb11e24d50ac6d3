import { describe, expect, it } from 'vitest';
import { MAX_PENDING_CALLS, MAX_VALUE_DEPTH, type KernelMessage, type KernelResult, type KernelValue } from '../../shared/protocol/kernel-channel';
import { decodeKernelCall, decodeKernelReply, encodeKernelMessage, type IncomingCall } from '../../shared/protocol/kernel-channel-codec';
import { KernelChannelServer, serveKernelCall, type ChannelProcess } from '../../server/kernel-channel-dispatch';
import { EAGAIN, EBADF, EFAULT, EINVAL, ENAMETOOLONG, ENOENT, ENOSYS } from '../../shared/kernel/errno';
import { DMA_HEAP_IOCTL_ALLOC, POLLIN, POLLNVAL } from '../../shared/kernel/uapi';
import { TEST_IOC_FILL, TEST_IOC_READY, TEST_IOC_WAIT, testKernel } from '../protocol/kernel-channel-helpers';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function call(id: number, name: string, args: Record<string, KernelValue>): IncomingCall {
  const d = decodeKernelCall(encodeKernelMessage({ type: 'call', id, call: name, ...args } as unknown as KernelMessage));
  if (!d.ok) throw new Error(d.reason);
  return d.msg;
}

async function served(r: KernelResult | Promise<KernelResult>): Promise<KernelResult> {
  return r;
}

describe('kernel channel calls', () => {
  it('open answers a new fd or -ENOENT', async () => {
    const { kernel } = testKernel();
    const p = kernel.spawn('c');
    expect((await served(serveKernelCall(p, call(1, 'open', { path: '/dev/test' })))).result).toBe(0);
    expect(await served(serveKernelCall(p, call(2, 'open', { path: '/dev/nope' })))).toEqual({ type: 'result', id: 2, result: -ENOENT });
  });

  it('an unknown call is -ENOSYS', async () => {
    const p = testKernel().kernel.spawn('c');
    expect((await served(serveKernelCall(p, call(1, 'mmap', { fd: 0 })))).result).toBe(-ENOSYS);
  });

  it('a non-integer fd is -EINVAL and a closed one -EBADF', async () => {
    const p = testKernel().kernel.spawn('c');
    expect((await served(serveKernelCall(p, call(1, 'close', { fd: '0' })))).result).toBe(-EINVAL);
    expect((await served(serveKernelCall(p, call(2, 'dup', { fd: 3 })))).result).toBe(-EBADF);
    expect((await served(serveKernelCall(p, call(3, 'ioctl', { fd: 1.5, request: TEST_IOC_FILL })))).result).toBe(-EINVAL);
  });

  it('a path of PATH_MAX bytes is -ENAMETOOLONG and a non-string path -EFAULT', async () => {
    const p = testKernel().kernel.spawn('c');
    expect((await served(serveKernelCall(p, call(1, 'open', { path: 'a'.repeat(4096) })))).result).toBe(-ENAMETOOLONG);
    expect((await served(serveKernelCall(p, call(2, 'open', { path: 4 })))).result).toBe(-EFAULT);
  });

  it('ioctl writes the struct out-fields into the result', async () => {
    const p = testKernel().kernel.spawn('c');
    const fd = p.open('/dev/test');
    const r = await served(serveKernelCall(p, call(1, 'ioctl', { fd, request: TEST_IOC_FILL, arg: { in: 5, out: 0, big: (1n << 63n), list: [1n, 2n] } })));
    expect(r).toEqual({ type: 'result', id: 1, result: 7, arg: { in: 5, out: -5, big: (1n << 63n) + 1n, list: [2n, 4n] } });
  });

  it('ioctl with wrongly typed struct fields is -EFAULT', async () => {
    const p = testKernel().kernel.spawn('c');
    const fd = p.open('/dev/test');
    const r = await served(serveKernelCall(p, call(1, 'ioctl', { fd, request: TEST_IOC_FILL, arg: { in: '5', out: 0, big: 1, list: [] } })));
    expect(r.result).toBe(-EFAULT);
  });

  it('ioctl with an argument nested too deep is -EFAULT before reaching the kernel', () => {
    const p = testKernel().kernel.spawn('c');
    const fd = p.open('/dev/test');
    let deep: KernelValue = 0;
    for (let i = 0; i < MAX_VALUE_DEPTH + 2; i++) deep = [deep];
    expect(serveKernelCall(p, call(1, 'ioctl', { fd, request: TEST_IOC_FILL, arg: { list: deep } }))).toEqual({ type: 'result', id: 1, result: -EFAULT });
  });

  it('a blocking ioctl answers when the kernel resolves it', async () => {
    const { kernel, dev } = testKernel();
    const p = kernel.spawn('c');
    const fd = p.open('/dev/test');
    const r = serveKernelCall(p, call(4, 'ioctl', { fd, request: TEST_IOC_WAIT, arg: { value: 0 } }));
    expect(r).toBeInstanceOf(Promise);
    dev.waiters[0]?.(42);
    expect(await r).toEqual({ type: 'result', id: 4, result: 0, arg: { value: 42 } });
  });

  it('poll reports revents, POLLNVAL for a closed fd, and completes when woken', async () => {
    const { kernel } = testKernel();
    const p = kernel.spawn('c');
    const fd = p.open('/dev/test');
    const now = await served(serveKernelCall(p, call(1, 'poll', { fds: [{ fd, events: POLLIN }, { fd: 9, events: POLLIN }], timeout: 0 })));
    expect(now).toEqual({ type: 'result', id: 1, result: 1, revents: [0, POLLNVAL] });
    let done: KernelResult | undefined;
    void served(serveKernelCall(p, call(2, 'poll', { fds: [{ fd, events: POLLIN }], timeout: -1 }))).then((r) => (done = r));
    await Promise.resolve();
    expect(done).toBeUndefined();
    p.ioctl(fd, TEST_IOC_READY, 1);
    await new Promise((r) => setImmediate(r));
    expect(done).toEqual({ type: 'result', id: 2, result: 1, revents: [POLLIN] });
  });

  it('poll times out on the kernel clock', async () => {
    const { kernel, clock } = testKernel();
    const p = kernel.spawn('c');
    const fd = p.open('/dev/test');
    const r = served(serveKernelCall(p, call(1, 'poll', { fds: [{ fd, events: POLLIN }], timeout: 5 })));
    clock.advance(5_000_000n);
    expect(await r).toEqual({ type: 'result', id: 1, result: 0, revents: [0] });
  });

  it('poll of more fds than RLIMIT_NOFILE is -EINVAL; malformed entries are -EFAULT', async () => {
    const p = testKernel().kernel.spawn('c');
    const many = Array.from({ length: 65 }, () => ({ fd: 0, events: POLLIN }));
    expect((await served(serveKernelCall(p, call(1, 'poll', { fds: many, timeout: 0 })))).result).toBe(-EINVAL);
    expect((await served(serveKernelCall(p, call(2, 'poll', { fds: [{ fd: 'x', events: 1 }], timeout: 0 })))).result).toBe(-EFAULT);
    expect((await served(serveKernelCall(p, call(3, 'poll', { fds: 5, timeout: 0 })))).result).toBe(-EFAULT);
    expect((await served(serveKernelCall(p, call(4, 'poll', { fds: [], timeout: 'soon' })))).result).toBe(-EINVAL);
  });
});

describe('kernel channel fstat', () => {
  it("answers a dma-buf's struct: st_ino is its id, st_size its length", async () => {
    const proc: ChannelProcess = testKernel().kernel.spawn('c');
    const heap = proc.open('/dev/dma_heap/system');
    const alloc = { len: 4096n, fd: 0, fd_flags: 0, heap_flags: 0n };
    expect(proc.ioctl(heap, DMA_HEAP_IOCTL_ALLOC, alloc)).toBe(0);
    const r = await served(serveKernelCall(proc, call(1, 'fstat', { fd: alloc.fd })));
    const own = proc.fstat(alloc.fd);
    if (typeof own === 'number') throw new Error(`fstat: ${own}`);
    expect(r).toEqual({ type: 'result', id: 1, result: 0, arg: { st_dev: own.st_dev, st_ino: own.st_ino, st_mode: own.st_mode, st_size: 4096n } });
    const back = decodeKernelReply(encodeKernelMessage(r));
    expect(back).toEqual({ ok: true, msg: r });
  });

  it('a closed fd is -EBADF and a non-integer fd -EINVAL', async () => {
    const proc: ChannelProcess = testKernel().kernel.spawn('c');
    expect(await served(serveKernelCall(proc, call(1, 'fstat', { fd: 9 })))).toEqual({ type: 'result', id: 1, result: -EBADF });
    expect((await served(serveKernelCall(proc, call(2, 'fstat', { fd: 'x' })))).result).toBe(-EINVAL);
  });
});
