import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  FAULT,
  KernelChannelServer,
  MAX_ARRAY_LENGTH,
  MAX_PENDING_CALLS,
  MAX_VALUE_DEPTH,
  decodeKernelCall,
  decodeKernelReply,
  decodeValue,
  encodeKernelMessage,
  encodeKernelMessageText,
  serveKernelCall,
  type IncomingCall,
  type KernelMessage,
  type KernelResult,
  type KernelValue,
} from '../../shared/protocol/kernel-channel';
import { Channel, unwrapFrame, wrapFrame } from '../../shared/protocol/frame-envelope';
import { EAGAIN, EBADF, EFAULT, EINVAL, ENAMETOOLONG, ENOENT, ENOSYS } from '../../shared/kernel/errno';
import { POLLIN, POLLNVAL } from '../../shared/kernel/uapi';
import { TEST_IOC_FILL, TEST_IOC_READY, TEST_IOC_WAIT, testKernel } from './kernel-channel-helpers';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function call(id: number, name: string, args: Record<string, KernelValue>): IncomingCall {
  const d = decodeKernelCall(encodeKernelMessage({ type: 'call', id, call: name, ...args } as unknown as KernelMessage));
  if (!d.ok) throw new Error(d.reason);
  return d.msg;
}

async function served(r: KernelResult | Promise<KernelResult>): Promise<KernelResult> {
  return r;
}

const wireValue: fc.Arbitrary<KernelValue> = fc.letrec<{ v: KernelValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.string(),
    fc.bigInt({ min: -(1n << 63n), max: (1n << 64n) - 1n }),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.string().filter((k) => k !== '$bigint'), tie('v'), { maxKeys: 4 }),
  ),
})).v;

describe('kernel channel encoding', () => {
  it('round-trips any value with bigints, nested arrays and objects', () => {
    fc.assert(
      fc.property(wireValue, (v) => {
        const text = encodeKernelMessageText({ type: 'event', name: 'x', data: v });
        const back = decodeKernelReply(bytes(text));
        expect(back).toEqual({ ok: true, msg: { type: 'event', name: 'x', data: v } });
      }),
      { seed: 20240603, numRuns: 300 },
    );
  });

  it('tags bigints losslessly beyond 2^53', () => {
    const v = { point: (1n << 64n) - 1n, timeout_nsec: -(1n << 63n), points: [1n, 9007199254740993n] };
    const text = encodeKernelMessageText({ type: 'event', name: 'e', data: v });
    expect(text).toContain('{"$bigint":"18446744073709551615"}');
    expect(decodeValue(JSON.parse(text).data)).toEqual(v);
  });

  it('keeps struct out-fields of a result, nested arrays of structs included', () => {
    const arg = { name: 'f', status: 1, num_fences: 1, sync_fence_info: [{ obj_name: 'tl', timestamp_ns: 5n, status: 1 }] };
    const r = decodeKernelReply(encodeKernelMessage({ type: 'result', id: 3, result: 0, arg }));
    expect(r).toEqual({ ok: true, msg: { type: 'result', id: 3, result: 0, arg } });
  });

  it('a "__proto__" key stays a plain data field', () => {
    const v = decodeValue(JSON.parse('{"__proto__":{"polluted":1}}'));
    expect(v).not.toBe(FAULT);
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(v as object)).toEqual(['__proto__']);
  });

  it('a value nested deeper than the limit is a fault', () => {
    let deep: unknown = 1;
    for (let i = 0; i < MAX_VALUE_DEPTH + 1; i++) deep = [deep];
    expect(decodeValue(deep)).toBe(FAULT);
  });

  it('an array longer than the limit is a fault', () => {
    expect(decodeValue(new Array(MAX_ARRAY_LENGTH + 1).fill(0))).toBe(FAULT);
    expect(decodeValue(new Array(MAX_ARRAY_LENGTH).fill(0))).not.toBe(FAULT);
  });

  it('a malformed bigint tag is a fault', () => {
    expect(decodeValue({ $bigint: '12x' })).toBe(FAULT);
    expect(decodeValue({ $bigint: 12 })).toBe(FAULT);
  });
});

describe('kernel channel envelope', () => {
  it('wraps and unwraps a payload on its channel', () => {
    const f = unwrapFrame(wrapFrame(Channel.kernel, bytes('{}')));
    expect(f.ok && f.channel).toBe(Channel.kernel);
    expect(f.ok && new TextDecoder().decode(f.payload)).toBe('{}');
  });

  it.each([
    ['a short frame', new Uint8Array([1, 0])],
    ['an unknown channel', new Uint8Array([7, 0, 0, 0])],
    ['non-zero reserved bytes', new Uint8Array([1, 0, 1, 0])],
  ])('rejects %s', (_name, frame) => {
    expect(unwrapFrame(frame).ok).toBe(false);
  });

  it.each([
    ['invalid UTF-8', new Uint8Array([0xff, 0xfe])],
    ['garbage JSON', bytes('{"type":')],
    ['a JSON array', bytes('[1,2]')],
    ['no id', bytes('{"type":"call","call":"open"}')],
    ['a fractional id', bytes('{"type":"call","id":1.5,"call":"open"}')],
    ['a negative id', bytes('{"type":"call","id":-1,"call":"open"}')],
    ['a result sent by a client', bytes('{"type":"result","id":1,"result":0}')],
    ['no call name', bytes('{"type":"call","id":1,"call":5}')],
  ])('a call with %s is a malformed envelope', (_name, payload) => {
    expect(decodeKernelCall(payload).ok).toBe(false);
  });
});

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
