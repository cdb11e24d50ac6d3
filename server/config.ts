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
 *
 * The last three are the compositor's live settings; their ranges, defaults
 * and checks are shared/control.ts's.
 */
import {
  DEFAULT_CONTROL_SETTINGS,
  parseLatchPolicy,
  parseNumericSetting,
  type ControlSettings,
  type NumericSetting,
} from '../shared/control';

export interface ServerConfig extends ControlSettings {
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

/** A step of parsing: the error that stops it, or undefined. */
type Refusal = string | undefined;

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

function setPolicy(c: ServerConfig, text: string, from: string): Refusal {
  const p = parseLatchPolicy(text, from);
  if (typeof p === 'object') return p.error;
  c.policy = p;
  return undefined;
}

function setNumeric(c: ServerConfig, setting: NumericSetting, text: string, from: string): Refusal {
  const n = parseNumericSetting(setting, text, from);
  if (typeof n === 'object') return n.error;
  c[setting] = n;
  return undefined;
}

function setPort(c: ServerConfig, text: string, from: string): Refusal {
  const p = parsePort(text, from);
  if (typeof p === 'string') return p;
  c.port = p;
  return undefined;
}

function addOrigin(c: ServerConfig, text: string, from: string): Refusal {
  const r = parseOrigin(text, from);
  if (typeof r !== 'string') return r.error;
  c.origins.push(r);
  return undefined;
}

function setLogLevel(c: ServerConfig, text: string, from: string): Refusal {
  if (!isLogLevel(text)) return `${from}: one of ${LOG_LEVELS.join(', ')}`;
  c.logLevel = text;
  return undefined;
}

/** The environment's settings, checked in a fixed order (the first bad one is reported). */
function applyEnv(c: ServerConfig, env: Readonly<Record<string, string | undefined>>): Refusal {
  const steps: (() => Refusal)[] = [
    () => (env.HANDOFF_POLICY ? setPolicy(c, env.HANDOFF_POLICY, 'HANDOFF_POLICY') : undefined),
    () => (env.HANDOFF_REFRESH ? setNumeric(c, 'refreshHz', env.HANDOFF_REFRESH, 'HANDOFF_REFRESH') : undefined),
    () => (env.HANDOFF_SLOW_MOTION ? setNumeric(c, 'slowMotion', env.HANDOFF_SLOW_MOTION, 'HANDOFF_SLOW_MOTION') : undefined),
    () => (env.HANDOFF_PORT ? setPort(c, env.HANDOFF_PORT, 'HANDOFF_PORT') : undefined),
    () => (env.HANDOFF_LOG_LEVEL ? setLogLevel(c, env.HANDOFF_LOG_LEVEL, 'HANDOFF_LOG_LEVEL') : undefined),
    () => {
      for (const o of (env.HANDOFF_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
        const bad = addOrigin(c, o, 'HANDOFF_ORIGINS');
        if (bad !== undefined) return bad;
      }
      return undefined;
    },
  ];
  for (const step of steps) {
    const bad = step();
    if (bad !== undefined) return bad;
  }
  return undefined;
}

/** Each flag's handler; `value` takes the flag's value (after "=" or the next argument). */
const FLAGS: Readonly<Record<string, (c: ServerConfig, value: () => string | undefined, flag: string) => Refusal>> = {
  '--host': (c, value) => {
    const v = value();
    if (!v) return '--host needs an address';
    c.host = v;
    return undefined;
  },
  '--port': (c, value) => {
    const v = value();
    return v === undefined ? '--port needs a number' : setPort(c, v, '--port');
  },
  '--origin': (c, value) => {
    const v = value();
    return v ? addOrigin(c, v, '--origin') : '--origin needs a URL';
  },
  '--log-level': (c, value) => setLogLevel(c, value() ?? '', '--log-level'),
  '--policy': (c, value) => setPolicy(c, value() ?? '', '--policy'),
  '--refresh': (c, value, flag) => {
    const v = value();
    return v === undefined ? `${flag} needs a number` : setNumeric(c, 'refreshHz', v, flag);
  },
  '--slow-motion': (c, value, flag) => {
    const v = value();
    return v === undefined ? `${flag} needs a number` : setNumeric(c, 'slowMotion', v, flag);
  },
};

/** The flags, in order: flags win over the environment. */
function applyFlags(c: ServerConfig, argv: readonly string[]): Refusal {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    const handler = Object.hasOwn(FLAGS, flag) ? FLAGS[flag] : undefined;
    if (handler === undefined) return `unknown argument ${JSON.stringify(arg)} (flags: ${Object.keys(FLAGS).join(', ')})`;
    const bad = handler(c, () => (eq >= 0 ? arg.slice(eq + 1) : argv[++i]), flag);
    if (bad !== undefined) return bad;
  }
  return undefined;
}

/** Parse argv (without node and script) and env. */
export function parseConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ConfigResult {
  const config: ServerConfig = {
    host: env.HANDOFF_HOST || DEFAULT_HOST,
    port: DEFAULT_PORT,
    origins: [],
    logLevel: 'info',
    ...DEFAULT_CONTROL_SETTINGS,
  };
  const bad = applyEnv(config, env) ?? applyFlags(config, argv);
  return bad === undefined ? { ok: true, config } : { ok: false, error: bad };
}
