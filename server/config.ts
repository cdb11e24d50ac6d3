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
 */

export interface ServerConfig {
  host: string;
  port: number;
  /** Origins allowed besides the server's own. */
  origins: string[];
  logLevel: LogLevel;
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
  const origins: string[] = [];

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
      default:
        return { ok: false, error: `unknown argument ${JSON.stringify(arg)} (flags: --host, --port, --origin, --log-level)` };
    }
  }
  return { ok: true, config: { host, port, origins, logLevel } };
}
