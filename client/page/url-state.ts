/**
 * The scene in the URL: everything that defines what the page shows lives
 * in the query string, so a reload (or a shared link) brings the same
 * scene back; the next issue's presets are just URLs.
 *
 *   ?clients=explicit,implicit:2:3,naive&policy=gpu-wait&refresh=30&slowmo=2&legacy=1
 *
 * `clients` is a comma-separated list of `mode[:buffers[:load]]`
 * (buffers 2..4, default 3; load 0..8 extra render passes, default 0).
 * Parsing never throws: a bad field keeps its default and adds an error
 * that says which field, what was given and what is allowed, so the page
 * can show it and still start. Pure: no DOM, unit-tested in test/page/.
 */

/** The sync modes an in-page client can use (the client library's kinds). */
export const CLIENT_MODES = ['explicit', 'explicit-fd', 'implicit', 'bridged', 'naive'] as const;
export type ClientMode = (typeof CLIENT_MODES)[number];

export const LATCH_POLICIES = ['cpu-wait', 'gpu-wait', 'none'] as const;
export type LatchPolicyName = (typeof LATCH_POLICIES)[number];

export const BUFFERS_MIN = 2;
export const BUFFERS_MAX = 4;
export const LOAD_MAX = 8;
/** A page holds at most 255 WebSockets; the display and the trace take two. */
export const MAX_CLIENTS = 253;

export interface ClientSpec {
  readonly mode: ClientMode;
  /** Swapchain length, 2..4. */
  readonly buffers: number;
  /** Extra GPU work per frame: this many more render passes, 0..8. */
  readonly load: number;
}

export interface SceneState {
  readonly clients: readonly ClientSpec[];
  /** undefined: leave the server's setting as it is. */
  readonly policy: LatchPolicyName | undefined;
  readonly refreshHz: number | undefined;
  readonly slowMotion: number | undefined;
  /** The kernel's 2020 replace-on-import behaviour (rejected by Linux). */
  readonly legacyReplaceImport: boolean;
}

export const DEFAULT_BUFFERS = 3;
export const DEFAULT_LOAD = 0;

export const EMPTY_SCENE: SceneState = {
  clients: [],
  policy: undefined,
  refreshHz: undefined,
  slowMotion: undefined,
  legacyReplaceImport: false,
};

export interface ParsedScene {
  readonly scene: SceneState;
  /** One plain sentence per field that was not understood. */
  readonly errors: readonly string[];
}

function isMode(s: string): s is ClientMode {
  return (CLIENT_MODES as readonly string[]).includes(s);
}

function isPolicy(s: string): s is LatchPolicyName {
  return (LATCH_POLICIES as readonly string[]).includes(s);
}

/** An integer in lo..hi, or an error sentence naming `what`. */
function intIn(text: string, what: string, lo: number, hi: number): number | string {
  if (!/^[0-9]{1,6}$/.test(text)) return `${what} must be a whole number ${lo}..${hi}, got ${JSON.stringify(text)}`;
  const n = Number(text);
  return n >= lo && n <= hi ? n : `${what} must be ${lo}..${hi}, got ${n}`;
}

/** A number in lo..hi (fractions allowed), or an error sentence. */
function numberIn(text: string, what: string, lo: number, hi: number): number | string {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) return `${what} must be a number ${lo}..${hi}, got ${JSON.stringify(text)}`;
  return n >= lo && n <= hi ? n : `${what} must be ${lo}..${hi}, got ${n}`;
}

/** One `mode[:buffers[:load]]` entry. */
export function parseClientSpec(text: string): ClientSpec | string {
  const parts = text.split(':');
  if (parts.length > 3) return `client "${text}": expected mode[:buffers[:load]]`;
  const [mode = '', buffersText, loadText] = parts;
  if (!isMode(mode)) return `client "${text}": "${mode}" is not a sync mode (${CLIENT_MODES.join(', ')})`;
  let buffers = DEFAULT_BUFFERS;
  let load = DEFAULT_LOAD;
  if (buffersText !== undefined) {
    const b = intIn(buffersText, `client "${text}": buffers`, BUFFERS_MIN, BUFFERS_MAX);
    if (typeof b === 'string') return b;
    buffers = b;
  }
  if (loadText !== undefined) {
    const l = intIn(loadText, `client "${text}": load`, 0, LOAD_MAX);
    if (typeof l === 'string') return l;
    load = l;
  }
  return { mode, buffers, load };
}

/** The shortest text for a client: defaults are left out. */
export function formatClientSpec(c: ClientSpec): string {
  if (c.load !== DEFAULT_LOAD) return `${c.mode}:${c.buffers}:${c.load}`;
  if (c.buffers !== DEFAULT_BUFFERS) return `${c.mode}:${c.buffers}`;
  return c.mode;
}

/** The scene in a query string (`location.search`, with or without '?'). */
export function parseScene(search: string): ParsedScene {
  const q = new URLSearchParams(search);
  const errors: string[] = [];
  const known = new Set(['clients', 'policy', 'refresh', 'slowmo', 'legacy']);
  for (const key of q.keys()) if (!known.has(key)) errors.push(`unknown setting "${key}" (known: ${[...known].join(', ')})`);

  const clients: ClientSpec[] = [];
  const clientsText = q.get('clients');
  if (clientsText !== null && clientsText.trim() !== '') {
    for (const item of clientsText.split(',')) {
      const c = parseClientSpec(item.trim());
      if (typeof c === 'string') errors.push(c);
      else if (clients.length >= MAX_CLIENTS) {
        errors.push(`at most ${MAX_CLIENTS} clients: a page holds 255 WebSockets and the display and trace use two`);
        break;
      } else clients.push(c);
    }
  }

  let policy: LatchPolicyName | undefined;
  const policyText = q.get('policy');
  if (policyText !== null) {
    if (isPolicy(policyText)) policy = policyText;
    else errors.push(`policy must be one of ${LATCH_POLICIES.join(', ')}, got ${JSON.stringify(policyText)}`);
  }

  let refreshHz: number | undefined;
  const refreshText = q.get('refresh');
  if (refreshText !== null) {
    const r = numberIn(refreshText, 'refresh (Hz)', 1, 1000);
    if (typeof r === 'string') errors.push(r);
    else refreshHz = r;
  }

  let slowMotion: number | undefined;
  const slowText = q.get('slowmo');
  if (slowText !== null) {
    const s = numberIn(slowText, 'slowmo (×)', 1, 1000);
    if (typeof s === 'string') errors.push(s);
    else slowMotion = s;
  }

  let legacyReplaceImport = false;
  const legacyText = q.get('legacy');
  if (legacyText !== null) {
    if (legacyText === '1' || legacyText === 'true') legacyReplaceImport = true;
    else if (legacyText !== '0' && legacyText !== 'false') errors.push(`legacy must be 0 or 1, got ${JSON.stringify(legacyText)}`);
  }

  return { scene: { clients, policy, refreshHz, slowMotion, legacyReplaceImport }, errors };
}

/** The query string for a scene ('' for the empty one); parseScene reads it back unchanged. */
export function formatScene(scene: SceneState): string {
  const q = new URLSearchParams();
  if (scene.clients.length > 0) q.set('clients', scene.clients.map(formatClientSpec).join(','));
  if (scene.policy !== undefined) q.set('policy', scene.policy);
  if (scene.refreshHz !== undefined) q.set('refresh', String(scene.refreshHz));
  if (scene.slowMotion !== undefined) q.set('slowmo', String(scene.slowMotion));
  if (scene.legacyReplaceImport) q.set('legacy', '1');
  // Commas and colons stay readable in the address bar.
  const text = q.toString().replace(/%2C/g, ',').replace(/%3A/g, ':');
  return text === '' ? '' : `?${text}`;
}
