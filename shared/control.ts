/**
 * The compositor's live settings: the knobs a teacher turns while clients
 * run (GET/POST /control, the server's --policy/--refresh/--slow-motion
 * flags and HANDOFF_* variables, the demo's flags, the page's form). Their
 * names, ranges, defaults and checks are written here once; every reader
 * of a setting validates it with these functions and words its errors
 * with them.
 *
 * Latch policy (DESIGN.md): what the compositor does with a commit whose
 * acquire fences have not signalled yet.
 */

/** How a commit whose buffer is still being written is latched. */
export const LATCH_POLICIES = ['cpu-wait', 'gpu-wait', 'none'] as const;
export type LatchPolicy = (typeof LATCH_POLICIES)[number];

/** One line per policy, for forms and help texts. */
export const LATCH_POLICY_SUMMARY: Readonly<Record<LatchPolicy, string>> = {
  'cpu-wait': 'wait for fences, then latch',
  'gpu-wait': 'latch now, GPU waits',
  none: 'unsafe',
};

export interface ControlSettings {
  /** The latch policy for commits from now on. */
  policy: LatchPolicy;
  /** The output's refresh rate in Hz. */
  refreshHz: number;
  /** Every vblank period stretched this many times (1 = real time). */
  slowMotion: number;
}

/** The numeric settings. */
export type NumericSetting = 'refreshHz' | 'slowMotion';

/** Inclusive ranges of the numeric settings. */
export const CONTROL_RANGES: Readonly<Record<NumericSetting, { readonly min: number; readonly max: number }>> = {
  refreshHz: { min: 1, max: 1000 },
  slowMotion: { min: 1, max: 1000 },
};

export const DEFAULT_CONTROL_SETTINGS: Readonly<ControlSettings> = { policy: 'cpu-wait', refreshHz: 60, slowMotion: 1 };

/** A change as a client sends it (POST /control): any subset, not yet checked. */
export interface ControlUpdate {
  policy?: string;
  refreshHz?: number;
  slowMotion?: number;
}

export function isLatchPolicy(value: unknown): value is LatchPolicy {
  return typeof value === 'string' && (LATCH_POLICIES as readonly string[]).includes(value);
}

/** Whether `value` is a finite number in the setting's range. */
export function inControlRange(setting: NumericSetting, value: number): boolean {
  const { min, max } = CONTROL_RANGES[setting];
  return Number.isFinite(value) && value >= min && value <= max;
}

export type ControlCheck = { ok: true; update: Partial<ControlSettings> } | { ok: false; error: string };

/**
 * Check a change as a whole (nothing applies when one field is bad): the
 * first bad field's error, in the order policy, refreshHz, slowMotion.
 */
export function checkControlUpdate(update: ControlUpdate): ControlCheck {
  const { policy, refreshHz, slowMotion } = update;
  const out: Partial<ControlSettings> = {};
  if (policy !== undefined) {
    if (!isLatchPolicy(policy)) return { ok: false, error: `policy must be one of ${LATCH_POLICIES.join(', ')}` };
    out.policy = policy;
  }
  for (const [setting, value] of [['refreshHz', refreshHz], ['slowMotion', slowMotion]] as const) {
    if (value === undefined) continue;
    if (!inControlRange(setting, value)) {
      const { min, max } = CONTROL_RANGES[setting];
      return { ok: false, error: `${setting} must be between ${min} and ${max}` };
    }
    out[setting] = value;
  }
  return { ok: true, update: out };
}

/**
 * A policy given as text (a flag, an environment variable); `from` names
 * where it came from in the error.
 */
export function parseLatchPolicy(text: string, from: string): LatchPolicy | { error: string } {
  return isLatchPolicy(text) ? text : { error: `${from}: one of ${LATCH_POLICIES.join(', ')}` };
}

/** A numeric setting given as text; `from` names where it came from in the error. */
export function parseNumericSetting(setting: NumericSetting, text: string, from: string): number | { error: string } {
  const n = Number(text);
  const { min, max } = CONTROL_RANGES[setting];
  if (text.trim() === '' || !inControlRange(setting, n)) return { error: `${from}: a number ${min}..${max}, got ${JSON.stringify(text)}` };
  return n;
}
