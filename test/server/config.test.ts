import { describe, expect, it } from 'vitest';
import { DEFAULT_HOST, DEFAULT_PORT, parseConfig } from '../../server/config';

describe('server config', () => {
  it('defaults to loopback on the default port', () => {
    expect(parseConfig([], {})).toEqual({
      ok: true,
      config: { host: DEFAULT_HOST, port: DEFAULT_PORT, origins: [], logLevel: 'info', policy: 'cpu-wait', refreshHz: 60, slowMotion: 1 },
    });
  });

  it('takes host, port and origins from the environment', () => {
    const r = parseConfig([], { HANDOFF_HOST: '0.0.0.0', HANDOFF_PORT: '9000', HANDOFF_ORIGINS: 'http://localhost:5173, https://demo.example/' });
    expect(r).toEqual({
      ok: true,
      config: { host: '0.0.0.0', port: 9000, origins: ['http://localhost:5173', 'https://demo.example'], logLevel: 'info', policy: 'cpu-wait', refreshHz: 60, slowMotion: 1 },
    });
  });

  it('flags win over the environment, in both --flag value and --flag=value forms', () => {
    const r = parseConfig(['--port', '0', '--host=::1', '--origin', 'http://a.test:1', '--log-level=silent'], { HANDOFF_PORT: '9000' });
    expect(r).toEqual({ ok: true, config: { host: '::1', port: 0, origins: ['http://a.test:1'], logLevel: 'silent', policy: 'cpu-wait', refreshHz: 60, slowMotion: 1 } });
  });

  it.each([
    [['--port', '65536'], {}],
    [['--port', 'x'], {}],
    [['--port'], {}],
    [[], { HANDOFF_PORT: '-1' }],
    [['--origin', 'ftp://x'], {}],
    [['--origin', 'not a url'], {}],
    [['--log-level', 'loud'], {}],
    [['--verbose'], {}],
  ])('refuses %j %j with a message', (argv, env) => {
    const r = parseConfig(argv, env);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.length).toBeGreaterThan(0);
  });
});

describe('compositor settings', () => {
  it('reads policy, refresh and slow motion from flags over env', () => {
    const r = parseConfig(['--policy', 'gpu-wait', '--refresh=144'], { HANDOFF_POLICY: 'none', HANDOFF_SLOW_MOTION: '10' });
    expect(r).toMatchObject({ ok: true, config: { policy: 'gpu-wait', refreshHz: 144, slowMotion: 10 } });
  });

  it('refuses an unknown policy and an out-of-range refresh with a clear error', () => {
    expect(parseConfig(['--policy', 'fast'], {})).toEqual({ ok: false, error: '--policy: one of cpu-wait, gpu-wait, none' });
    const r = parseConfig(['--refresh', '0'], {});
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain('1..1000');
  });
});
