import { describe, expect, it } from 'vitest';
import { copyOut, DisconnectedError, KernelClient } from '../../client/core/kernel-client';
import { encodeKernelMessage } from '../../shared/protocol/kernel-channel-codec';
import { KernelChannelServer } from '../../server/kernel-channel-dispatch';
import { POLLIN } from '../../shared/kernel/uapi';
import { EBADF } from '../../shared/kernel/errno';
import { TEST_IOC_FILL, TEST_IOC_READY, TEST_IOC_WAIT, testKernel } from '../protocol/kernel-channel-helpers';

/** A KernelClient wired to a KernelChannelServer through microtasks. */
function pair() {
  const t = testKernel();
  const proc = t.kernel.spawn('c');
  let server: KernelChannelServer | undefined;
  const bad: string[] = [];
  const client = new KernelClient((payload) => queueMicrotask(() => server?.receive(payload)));
  server = new KernelChannelServer(
    proc,
    (payload) => queueMicrotask(() => {
      const err = client.receive(payload);
      if (err) bad.push(err);
    }),
    (e) => {
      throw e;
    },
  );
  return { ...t, proc, client, server, bad };
}

describe('copyOut', () => {
  it('writes only fields the caller’s struct has', () => {
    const target = { fence: -1, value: 1 };
    copyOut(target, { fence: 4, value: 1, extra: 9 });
    expect(target).toEqual({ fence: 4, value: 1 });
  });

  it('fills arrays in place', () => {
    const list: number[] = [7, 7, 7];
    const target = { list };
    copyOut(target, { list: [1] });
    expect(target.list).toBe(list);
    expect(list).toEqual([1]);
  });

  it('never installs a prototype from a "__proto__" field', () => {
    const target: Record<string, unknown> = { a: 1 };
    copyOut(target, JSON.parse('{"__proto__":{"polluted":true},"a":2}'));
    expect(Object.getPrototypeOf(target)).toBe(Object.prototype);
    expect(target.polluted).toBeUndefined();
    expect(target.a).toBe(2);
  });
});

describe('KernelClient', () => {
  it('ioctl resolves with the result and fills the struct', async () => {
    const { client } = pair();
    const fd = await client.open('/dev/test');
    const arg = { in: 3, out: 0, big: 41n, list: [1n] };
    expect(await client.ioctl(fd, TEST_IOC_FILL, arg)).toBe(7);
    expect(arg).toEqual({ in: 3, out: -3, big: 42n, list: [2n] });
  });

  it('a blocking ioctl resolves when the kernel completes it, not before', async () => {
    const { client, dev } = pair();
    const fd = await client.open('/dev/test');
    const arg = { value: 0 };
    let settled = false;
    const p = client.ioctl(fd, TEST_IOC_WAIT, arg).then((r) => ((settled = true), r));
    await client.dup(fd);
    expect(settled).toBe(false);
    dev.waiters[0]?.(5);
    expect(await p).toBe(0);
    expect(arg.value).toBe(5);
  });

  it('poll writes revents into the caller’s entries once ready', async () => {
    const { client } = pair();
    const fd = await client.open('/dev/test');
    const fds = [{ fd, events: POLLIN, revents: -1 }];
    const p = client.poll(fds, -1);
    await client.ioctl(fd, TEST_IOC_READY, 1);
    expect(await p).toBe(1);
    expect(fds[0]?.revents).toBe(POLLIN);
  });

  it('poll of an fd that is not open answers POLLNVAL at once', async () => {
    const { client } = pair();
    const fd = await client.open('/dev/test');
    const fds = [
      { fd, events: POLLIN, revents: -1 },
      { fd: 40, events: POLLIN, revents: -1 },
    ];
    expect(await client.poll(fds, -1)).toBe(1);
    expect(fds.map((f) => f.revents)).toEqual([0, 0x20]);
  });

  it('disconnect rejects pending and later calls', async () => {
    const { client } = pair();
    const fd = await client.open('/dev/test');
    const pending = client.poll([{ fd, events: POLLIN, revents: 0 }], -1);
    client.disconnect('socket closed');
    await expect(pending).rejects.toBeInstanceOf(DisconnectedError);
    await expect(client.open('/dev/test')).rejects.toThrow(/socket closed/);
    expect(client.pendingCalls).toBe(0);
  });

  it('a result for a call never made is reported as malformed input', () => {
    const { client } = pair();
    expect(client.receive(encodeKernelMessage({ type: 'result', id: 77, result: 0 }))).toMatch(/unknown call 77/);
    expect(client.receive(new TextEncoder().encode('{"type":"call","id":1,"call":"open"}'))).toMatch(/unknown/);
  });
});

/**
 * fstat (UAPI-PLAN §1) against a scripted server: the call's encoding and
 * the answer's decoding. The channel's side (helper "proto") and the
 * kernel's Process.fstat (helper "kernel") are not on this branch yet.
 */
describe('KernelClient.fstat', () => {
  function scripted() {
    const sent: unknown[] = [];
    const client = new KernelClient((payload) => sent.push(JSON.parse(new TextDecoder().decode(payload))));
    return { client, sent };
  }

  it('sends { type: "call", id, call: "fstat", fd }', () => {
    const { client, sent } = scripted();
    void client.fstat(5);
    expect(sent).toEqual([{ type: 'call', id: 1, call: 'fstat', fd: 5 }]);
  });

  it('resolves with the stat struct of the answer, st_size a bigint', async () => {
    const { client } = scripted();
    const p = client.fstat(5);
    const stat = { st_dev: 0, st_ino: 17, st_mode: 0o100600, st_size: 16_384n };
    expect(client.receive(encodeKernelMessage({ type: 'result', id: 1, result: 0, arg: stat }))).toBeUndefined();
    expect(await p).toEqual(stat);
  });

  it('resolves with the errno of a failed call', async () => {
    const { client } = scripted();
    const p = client.fstat(40);
    client.receive(encodeKernelMessage({ type: 'result', id: 1, result: -EBADF }));
    expect(await p).toBe(-EBADF);
  });

  it('rejects an answer of 0 that carries no stat struct', async () => {
    const { client } = scripted();
    const p = client.fstat(5);
    client.receive(encodeKernelMessage({ type: 'result', id: 1, result: 0, arg: { st_ino: 17 } }));
    await expect(p).rejects.toThrow(/without a stat struct/);
  });
});
