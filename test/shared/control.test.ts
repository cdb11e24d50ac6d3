import { describe, expect, it } from 'vitest';
import {
  checkControlUpdate,
  CONTROL_RANGES,
  DEFAULT_CONTROL_SETTINGS,
  inControlRange,
  LATCH_POLICIES,
  parseLatchPolicy,
  parseNumericSetting,
} from '../../shared/control';

describe('the control settings', () => {
  it('defaults lie inside their own ranges and policies', () => {
    expect(LATCH_POLICIES).toContain(DEFAULT_CONTROL_SETTINGS.policy);
    expect(inControlRange('refreshHz', DEFAULT_CONTROL_SETTINGS.refreshHz)).toBe(true);
    expect(inControlRange('slowMotion', DEFAULT_CONTROL_SETTINGS.slowMotion)).toBe(true);
  });

  it('a range includes its ends and refuses what lies past them, NaN and infinity', () => {
    const { min, max } = CONTROL_RANGES.refreshHz;
    expect([min, max].map((v) => inControlRange('refreshHz', v))).toEqual([true, true]);
    expect([min - 0.5, max + 1, Number.NaN, Number.POSITIVE_INFINITY].map((v) => inControlRange('refreshHz', v))).toEqual([false, false, false, false]);
  });

  it('an update is checked as a whole: the first bad field is named with its allowed values', () => {
    expect(checkControlUpdate({ policy: 'gpu-wait', refreshHz: 30 })).toEqual({ ok: true, update: { policy: 'gpu-wait', refreshHz: 30 } });
    expect(checkControlUpdate({ policy: 'fastest', refreshHz: 0 })).toEqual({ ok: false, error: 'policy must be one of cpu-wait, gpu-wait, none' });
    expect(checkControlUpdate({ refreshHz: 2000 })).toEqual({ ok: false, error: 'refreshHz must be between 1 and 1000' });
    expect(checkControlUpdate({ slowMotion: 0 })).toEqual({ ok: false, error: 'slowMotion must be between 1 and 1000' });
    expect(checkControlUpdate({})).toEqual({ ok: true, update: {} });
  });

  it('text from a flag or the environment is parsed with where it came from in the error', () => {
    expect(parseLatchPolicy('none', '--policy')).toBe('none');
    expect(parseLatchPolicy('fast', 'HANDOFF_POLICY')).toEqual({ error: 'HANDOFF_POLICY: one of cpu-wait, gpu-wait, none' });
    expect(parseNumericSetting('slowMotion', '10', '--slow-motion')).toBe(10);
    expect(parseNumericSetting('refreshHz', ' ', '--refresh')).toEqual({ error: '--refresh: a number 1..1000, got " "' });
    expect(parseNumericSetting('refreshHz', '0', 'HANDOFF_REFRESH')).toEqual({ error: 'HANDOFF_REFRESH: a number 1..1000, got "0"' });
  });
});
