/**
 * Server configuration from command-line flags and the environment.
 * Flags win over the environment; both are checked here, once, so the rest
 * of the server trusts its config.
 *
 *   --host <addr>      HANDOFF_HOST     default 127.0.0.1 (loopback only)
 *   --port <n>         HANDOFF_PORT     default 8080 (0: any free port)
 *   --origin <url>     HANDOFF_ORIGINS  extra allowed WebSocket origins
 *                                       (flag repeatable; env comma-separated)
 *   --log-level <lvl>  HANDOFF_LOG_LEVEL default info
 *   --policy <p>       HANDOFF_POLICY   latch policy: cpu-wait (default), gpu-wait, none
 *   --refresh <hz>     HANDOFF_REFRESH  output refresh rate, 1..1000, default 60
 *   --slow-motion <x>  HANDOFF_SLOW_MOTION  stretch every vblank period x times, 1..1000, default 1
 */

export interface ServerConfig {
  host: string;
  port: number;
  /** Origins allowed besides the server's own. */
  origins: string[];
  logLevel: LogLevel;
  policy: Policy;
  refreshHz: number;
  slowMotion: number;
}

export const POLICIES = ['cpu-wait', 'gpu-wait', 'none'] as const;
export type Policy = (typeof POLICIES)[number];

function isPolicy(s: string): s is Policy {
  return (POLICIES as readonly string[]).includes(s);
}

function parseRange(text: string, from: string, lo: number, hi: number): number | string {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < lo || n > hi) return `${from}: a number ${lo}..${hi}, got ${JSON.stringify(text)}`;
  return n;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8080;

export type ConfigResult = { ok: true; config: ServerConfig } | { ok: false; error: string };

function parsePort(text: string, from: string): number | string {
  if (!/^[0-9]{1,5}$/.test(text)) return `${from}: port must be an integer 0..65535, got ${JSON.stringify(text)}`;
  const n = Number(text);
  return n <= 65535 ? n : `${from}: port must be an integer 0..65535, got ${text}`;
}

function parseOrigin(text: string, from: string): string | { error: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { error: `${from}: ${JSON.stringify(text)} is not a URL` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { error: `${from}: origin must be http(s), got ${text}` };
  // An Origin header is scheme://host[:port], never a path: compare that form.
  return url.origin;
}

function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

/** Parse argv (without node and script) and env. */
export function parseConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ConfigResult {
  let host = env.HANDOFF_HOST || DEFAULT_HOST;
  let port = DEFAULT_PORT;
  let logLevel: LogLevel = 'info';
  let policy: Policy = 'cpu-wait';
  let refreshHz = 60;
  let slowMotion = 1;
  const origins: string[] = [];

  if (env.HANDOFF_POLICY) {
    if (!isPolicy(env.HANDOFF_POLICY)) return { ok: false, error: `HANDOFF_POLICY: one of ${POLICIES.join(', ')}` };
    policy = env.HANDOFF_POLICY;
  }
  if (env.HANDOFF_REFRESH) {
    const r = parseRange(env.HANDOFF_REFRESH, 'HANDOFF_REFRESH', 1, 1000);
    if (typeof r === 'string') return { ok: false, error: r };
    refreshHz = r;
  }
  if (env.HANDOFF_SLOW_MOTION) {
    const r = parseRange(env.HANDOFF_SLOW_MOTION, 'HANDOFF_SLOW_MOTION', 1, 1000);
    if (typeof r === 'string') return { ok: false, error: r };
    slowMotion = r;
  }

  if (env.HANDOFF_PORT) {
    const p = parsePort(env.HANDOFF_PORT, 'HANDOFF_PORT');
    if (typeof p === 'string') return { ok: false, error: p };
    port = p;
  }
  if (env.HANDOFF_LOG_LEVEL) {
    if (!isLogLevel(env.HANDOFF_LOG_LEVEL)) return { ok: false, error: `HANDOFF_LOG_LEVEL: one of ${LOG_LEVELS.join(', ')}` };
    logLevel = env.HANDOFF_LOG_LEVEL;
  }
  for (const o of (env.HANDOFF_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const r = parseOrigin(o, 'HANDOFF_ORIGINS');
    if (typeof r !== 'string') return { ok: false, error: r.error };
    origins.push(r);
  }

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    const value = (): string | undefined => (eq >= 0 ? arg.slice(eq + 1) : argv[++i]);
    switch (flag) {
      case '--host': {
        const v = value();
        if (!v) return { ok: false, error: '--host needs an address' };
        host = v;
        break;
      }
      case '--port': {
        const v = value();
        if (v === undefined) return { ok: false, error: '--port needs a number' };
        const p = parsePort(v, '--port');
        if (typeof p === 'string') return { ok: false, error: p };
        port = p;
        break;
      }
      case '--origin': {
        const v = value();
        if (!v) return { ok: false, error: '--origin needs a URL' };
        const r = parseOrigin(v, '--origin');
        if (typeof r !== 'string') return { ok: false, error: r.error };
        origins.push(r);
        break;
      }
      case '--log-level': {
        const v = value() ?? '';
        if (!isLogLevel(v)) return { ok: false, error: `--log-level: one of ${LOG_LEVELS.join(', ')}` };
        logLevel = v;
        break;
      }
      case '--policy': {
        const v = value() ?? '';
        if (!isPolicy(v)) return { ok: false, error: `--policy: one of ${POLICIES.join(', ')}` };
        policy = v;
        break;
      }
      case '--refresh':
      case '--slow-motion': {
        const v = value();
        if (v === undefined) return { ok: false, error: `${flag} needs a number` };
        const r = parseRange(v, flag, 1, 1000);
        if (typeof r === 'string') return { ok: false, error: r };
        if (flag === '--refresh') refreshHz = r;
        else slowMotion = r;
        break;
      }
      default:
        return {
          ok: false,
          error: `unknown argument ${JSON.stringify(arg)} (flags: --host, --port, --origin, --log-level, --policy, --refresh, --slow-motion)`,
        };
    }
  }
  return { ok: true, config: { host, port, origins, logLevel, policy, refreshHz, slowMotion } };
}
