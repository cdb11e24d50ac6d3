/**
 * Opcodes and error values checked against the upstream XML, as listed in
 * /work/shared/reference/wayland-sync.md §A1–A8: a reordered request in our
 * XML would silently break every real client, so pin them.
 */
import { describe, expect, it } from 'vitest';
import * as g from '../../shared/protocol/generated/index';
import type { InterfaceSpec } from '../../shared/protocol/spec';

const names = (list: InterfaceSpec['requests']): string[] => list.map((m) => m.name);

describe('opcodes match upstream', () => {
  it('core', () => {
    expect(names(g.wlDisplayInterface.requests)).toEqual(['sync', 'get_registry']);
    expect(names(g.wlDisplayInterface.events)).toEqual(['error', 'delete_id']);
    expect(names(g.wlRegistryInterface.requests)).toEqual(['bind']);
    expect(names(g.wlRegistryInterface.events)).toEqual(['global', 'global_remove']);
    expect(names(g.wlCallbackInterface.events)).toEqual(['done']);
    expect(names(g.wlBufferInterface.requests)).toEqual(['destroy']);
    expect(names(g.wlBufferInterface.events)).toEqual(['release']);
    expect(names(g.wlSurfaceInterface.requests)).toEqual([
      'destroy', 'attach', 'damage', 'frame', 'set_opaque_region', 'set_input_region', 'commit',
      'set_buffer_transform', 'set_buffer_scale', 'damage_buffer', 'offset',
    ]);
    expect(names(g.wlSurfaceInterface.events)).toEqual(['enter', 'leave', 'preferred_buffer_scale', 'preferred_buffer_transform']);
    expect(g.wlSurfaceInterface.requests.map((m) => m.since)).toEqual([1, 1, 1, 1, 1, 1, 1, 2, 3, 4, 5]);
    expect(names(g.wlOutputInterface.events)).toEqual(['geometry', 'mode', 'done', 'scale', 'name', 'description']);
    expect(g.WlDisplayError).toEqual({ invalidObject: 0, invalidMethod: 1, noMemory: 2, implementation: 3 });
    expect(g.WlSurfaceError).toEqual({ invalidScale: 0, invalidTransform: 1, invalidSize: 2, invalidOffset: 3, defunctRoleObject: 4 });
  });

  it('linux-drm-syncobj-v1', () => {
    expect(names(g.wpLinuxDrmSyncobjManagerV1Interface.requests)).toEqual(['destroy', 'get_surface', 'import_timeline']);
    expect(names(g.wpLinuxDrmSyncobjSurfaceV1Interface.requests)).toEqual(['destroy', 'set_acquire_point', 'set_release_point']);
    expect(g.WpLinuxDrmSyncobjManagerV1Error).toEqual({ surfaceExists: 0, invalidTimeline: 1 });
    expect(g.WpLinuxDrmSyncobjSurfaceV1Error).toEqual({
      noSurface: 1, unsupportedBuffer: 2, noBuffer: 3, noAcquirePoint: 4, noReleasePoint: 5, conflictingPoints: 6,
    });
  });

  it('linux-explicit-synchronization-unstable-v1', () => {
    expect(names(g.zwpLinuxExplicitSynchronizationV1Interface.requests)).toEqual(['destroy', 'get_synchronization']);
    expect(names(g.zwpLinuxSurfaceSynchronizationV1Interface.requests)).toEqual(['destroy', 'set_acquire_fence', 'get_release']);
    expect(names(g.zwpLinuxBufferReleaseV1Interface.events)).toEqual(['fenced_release', 'immediate_release']);
    expect(g.zwpLinuxBufferReleaseV1Interface.events.every((e) => e.destructor)).toBe(true);
    expect(g.ZwpLinuxSurfaceSynchronizationV1Error).toEqual({
      invalidFence: 0, duplicateFence: 1, duplicateRelease: 2, noSurface: 3, unsupportedBuffer: 4, noBuffer: 5,
    });
  });

  it('presentation-time, fifo-v1, commit-timing-v1', () => {
    expect(names(g.wpPresentationInterface.requests)).toEqual(['destroy', 'feedback']);
    expect(names(g.wpPresentationInterface.events)).toEqual(['clock_id']);
    expect(names(g.wpPresentationFeedbackInterface.events)).toEqual(['sync_output', 'presented', 'discarded']);
    expect(g.WpPresentationFeedbackKind).toEqual({ vsync: 1, hwClock: 2, hwCompletion: 4, zeroCopy: 8 });
    expect(names(g.wpFifoManagerV1Interface.requests)).toEqual(['destroy', 'get_fifo']);
    expect(names(g.wpFifoV1Interface.requests)).toEqual(['set_barrier', 'wait_barrier', 'destroy']);
    expect(names(g.wpCommitTimingManagerV1Interface.requests)).toEqual(['destroy', 'get_timer']);
    expect(names(g.wpCommitTimerV1Interface.requests)).toEqual(['set_timestamp', 'destroy']);
    expect(g.WpCommitTimerV1Error).toEqual({ invalidTimestamp: 0, timestampExists: 1, surfaceDestroyed: 2 });
  });

  it('linux-dmabuf-v1 and xdg-shell', () => {
    expect(names(g.zwpLinuxDmabufV1Interface.requests)).toEqual(['destroy', 'create_params', 'get_default_feedback', 'get_surface_feedback']);
    expect(names(g.zwpLinuxBufferParamsV1Interface.requests)).toEqual(['destroy', 'add', 'create', 'create_immed']);
    expect(names(g.zwpLinuxBufferParamsV1Interface.events)).toEqual(['created', 'failed']);
    expect(names(g.zwpLinuxDmabufFeedbackV1Interface.events)).toEqual([
      'done', 'format_table', 'main_device', 'tranche_done', 'tranche_target_device', 'tranche_formats', 'tranche_flags',
    ]);
    expect(names(g.xdgWmBaseInterface.requests)).toEqual(['destroy', 'create_positioner', 'get_xdg_surface', 'pong']);
    expect(names(g.xdgSurfaceInterface.requests)).toEqual(['destroy', 'get_toplevel', 'get_popup', 'set_window_geometry', 'ack_configure']);
    expect(names(g.xdgToplevelInterface.requests)[2]).toBe('set_title');
    expect(names(g.xdgToplevelInterface.events)).toEqual(['configure', 'close', 'configure_bounds', 'wm_capabilities']);
  });

  it('every opcode is its index', () => {
    for (const spec of Object.values(g.interfaces) as InterfaceSpec[]) {
      spec.requests.forEach((m, i) => expect(m.opcode).toBe(i));
      spec.events.forEach((m, i) => expect(m.opcode).toBe(i));
    }
  });
});
