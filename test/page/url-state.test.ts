import { describe, expect, it } from 'vitest';
import { EMPTY_SCENE, formatScene, parseClientSpec, parseScene, MAX_CLIENTS } from '../../client/page/url-state';

describe('scene in the URL', () => {
  it('an empty query is the empty scene with no errors', () => {
    expect(parseScene('')).toEqual({ scene: EMPTY_SCENE, errors: [] });
  });

  it('reads clients as mode[:buffers[:load]] with defaults 3 and 0', () => {
    const { scene, errors } = parseScene('?clients=explicit,implicit:2,naive:4:5');
    expect(errors).toEqual([]);
    expect(scene.clients).toEqual([
      { mode: 'explicit', buffers: 3, load: 0 },
      { mode: 'implicit', buffers: 2, load: 0 },
      { mode: 'naive', buffers: 4, load: 5 },
    ]);
  });

  it('reads policy, refresh, slow motion and the legacy switch', () => {
    const { scene, errors } = parseScene('policy=gpu-wait&refresh=30&slowmo=2.5&legacy=1');
    expect(errors).toEqual([]);
    expect(scene).toMatchObject({ policy: 'gpu-wait', refreshHz: 30, slowMotion: 2.5, legacyReplaceImport: true });
  });

  it('an unknown mode names the mode and lists the known ones, and the other clients stay', () => {
    const { scene, errors } = parseScene('clients=explicit,vulkan');
    expect(scene.clients).toHaveLength(1);
    expect(errors).toEqual(['client "vulkan": "vulkan" is not a sync mode (explicit, explicit-fd, implicit, bridged, naive)']);
  });

  it('buffer counts outside 2..4 are refused with the range', () => {
    expect(parseClientSpec('explicit:5')).toBe('client "explicit:5": buffers must be 2..4, got 5');
    expect(parseClientSpec('explicit:x')).toBe('client "explicit:x": buffers must be a whole number 2..4, got "x"');
  });

  it('a bad number keeps the server setting and says what is allowed', () => {
    const { scene, errors } = parseScene('refresh=0&slowmo=fast&policy=wait');
    expect(scene.refreshHz).toBeUndefined();
    expect(scene.slowMotion).toBeUndefined();
    expect(scene.policy).toBeUndefined();
    expect(errors).toEqual([
      'policy must be one of cpu-wait, gpu-wait, none, got "wait"',
      'refresh (Hz) must be 1..1000, got 0',
      'slowmo (×) must be a number 1..1000, got "fast"',
    ]);
  });

  it('unknown settings are reported, not ignored silently', () => {
    expect(parseScene('colour=red').errors).toEqual(['unknown setting "colour" (known: clients, policy, refresh, slowmo, legacy)']);
  });

  it('more clients than a page has WebSockets for are cut with an explanation', () => {
    const { scene, errors } = parseScene(`clients=${Array(MAX_CLIENTS + 5).fill('naive').join(',')}`);
    expect(scene.clients).toHaveLength(MAX_CLIENTS);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/255 WebSockets/);
  });

  it('formatScene writes what parseScene reads back unchanged, defaults left out', () => {
    const scene = parseScene('clients=explicit,bridged:2,naive:3:4&policy=none&refresh=24&slowmo=3&legacy=1').scene;
    const text = formatScene(scene);
    expect(text).toBe('?clients=explicit,bridged:2,naive:3:4&policy=none&refresh=24&slowmo=3&legacy=1');
    expect(parseScene(text)).toEqual({ scene, errors: [] });
    expect(formatScene(EMPTY_SCENE)).toBe('');
  });
});
