import { describe, expect, it } from 'vitest';
import { MAX_PENDING_CALLS, MAX_VALUE_DEPTH, type KernelMessage, type KernelResult, type KernelStat, type KernelValue } from '../../shared/protocol/kernel-channel';
import { decodeKernelCall, decodeKernelReply, encodeKernelMessage, type IncomingCall } from '../../shared/protocol/kernel-channel-codec';
import { KernelChannelServer, serveKernelCall, type ChannelProcess } from '../../server/kernel-channel-dispatch';
import { EAGAIN, EBADF, EFAULT, EINVAL, ENAMETOOLONG, ENOENT, ENOSYS } from '../../shared/kernel/errno';
import { POLLIN, POLLNVAL } from '../../shared/kernel/uapi';
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
  /**
   * A tiny local wrapper standing in for Process.fstat (UAPI-PLAN §1) until
   * the kernel model's lands: a stat of each open fd, -EBADF otherwise.
   */
  function withFstat(): { proc: ChannelProcess; fd: number } {
    const proc: ChannelProcess = testKernel().kernel.spawn('c');
    const fd = proc.open('/dev/test');
    proc.fstat = (n: number): KernelStat | number =>
      n === fd ? { st_dev: 0, st_ino: 41, st_mode: 0o100600, st_size: (1n << 60n) + 1n } : -EBADF;
    return { proc, fd };
  }

  it('answers the struct of an open fd, st_size lossless past 2^53', async () => {
    const { proc, fd } = withFstat();
    const r = await served(serveKernelCall(proc, call(1, 'fstat', { fd })));
    expect(r).toEqual({ type: 'result', id: 1, result: 0, arg: { st_dev: 0, st_ino: 41, st_mode: 0o100600, st_size: (1n << 60n) + 1n } });
    const back = decodeKernelReply(encodeKernelMessage(r));
    expect(back).toEqual({ ok: true, msg: r });
  });

  it('a closed fd is -EBADF and a non-integer fd -EINVAL', async () => {
    const { proc } = withFstat();
    expect(await served(serveKernelCall(proc, call(1, 'fstat', { fd: 9 })))).toEqual({ type: 'result', id: 1, result: -EBADF });
    expect((await served(serveKernelCall(proc, call(2, 'fstat', { fd: 'x' })))).result).toBe(-EINVAL);
  });
});


describe('KernelChannelServer', () => {
  function server() {
    const t = testKernel();
    const proc = t.kernel.spawn('c');
    const sent: KernelMessage[] = [];
    const errors: unknown[] = [];
    const ch = new KernelChannelServer(
      proc,
      (payload) => {
        const d = decodeKernelReply(payload);
        if (!d.ok) throw new Error(d.reason);
        sent.push(d.msg);
      },
      (e) => errors.push(e),
    );
    return { ...t, proc, ch, sent, errors };
  }

  it('answers in order and reports a malformed envelope to its caller', () => {
    const { ch, sent } = server();
    expect(ch.receive(encodeKernelMessage({ type: 'call', id: 1, call: 'open', path: '/dev/test' }))).toBeUndefined();
    expect(ch.receive(encodeKernelMessage({ type: 'call', id: 2, call: 'dup', fd: 0 }))).toBeUndefined();
    expect(sent).toEqual([
      { type: 'result', id: 1, result: 0 },
      { type: 'result', id: 2, result: 1 },
    ]);
    expect(ch.receive(bytes('nonsense'))).toMatch(/JSON/);
  });

  it('beyond MAX_PENDING_CALLS waiting calls, a new one is -EAGAIN', () => {
    const { ch, sent, proc } = server();
    const fd = proc.open('/dev/test');
    for (let i = 0; i < MAX_PENDING_CALLS; i++) ch.receive(encodeKernelMessage({ type: 'call', id: i, call: 'poll', fds: [{ fd, events: POLLIN }], timeout: -1 }));
    expect(ch.pendingCalls).toBe(MAX_PENDING_CALLS);
    ch.receive(encodeKernelMessage({ type: 'call', id: 99999, call: 'dup', fd }));
    expect(sent).toEqual([{ type: 'result', id: 99999, result: -EAGAIN }]);
  });

  it('drops completions that arrive after close', async () => {
    const { ch, sent, dev, proc } = server();
    const fd = proc.open('/dev/test');
    ch.receive(encodeKernelMessage({ type: 'call', id: 1, call: 'ioctl', fd, request: TEST_IOC_WAIT, arg: { value: 0 } }));
    ch.close();
    dev.waiters[0]?.(1);
    await new Promise((r) => setImmediate(r));
    expect(sent).toEqual([]);
    expect(ch.pendingCalls).toBe(0);
  });

  it('sends events', () => {
    const { ch, sent } = server();
    ch.event('vgpu.job_runnable', { job: 3, seqno: 10n });
    expect(sent).toEqual([{ type: 'event', name: 'vgpu.job_runnable', data: { job: 3, seqno: 10n } }]);
  });
});
