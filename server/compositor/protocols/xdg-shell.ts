/**
 * xdg_wm_base / xdg_surface / xdg_toplevel: enough for titled, configured
 * windows. The first commit after get_toplevel gets the initial configure
 * (since v5 toplevel.wm_capabilities first, then toplevel.configure and
 * xdg_surface.configure), as compositors do; the surface is composited from
 * its first commit with a role. There are no popups: get_popup is refused
 * with xdg_wm_base.invalid_popup_parent.
 */
import type { CompositorContext } from '../context';
import type { Resource } from '../../../shared/protocol/server';
import {
  XdgSurfaceError,
  XdgWmBaseError,
  xdgWmBaseInterface,
  type XdgPopupRequests,
  type XdgPositionerRequests,
  type XdgToplevelRequests,
} from '../../../shared/protocol/generated/xdg-shell';
import { destroyResource, surfaceOf } from './util';

const positioner: XdgPositionerRequests = {
  destroy: destroyResource,
  setSize() {},
  setAnchorRect() {},
  setAnchor() {},
  setGravity() {},
  setConstraintAdjustment() {},
  setOffset() {},
  setReactive() {},
  setParentSize() {},
  setParentConfigure() {},
};

export function registerXdgShell(c: CompositorContext): void {
  c.display.createGlobal(xdgWmBaseInterface, 5, (newId) => {
    newId.create({
      destroy: destroyResource,
      createPositioner: (_r, id) => {
        id.create(positioner);
      },
      pong: () => {},
      getXdgSurface: (wm, id, wlSurface) => {
        const surface = surfaceOf(wlSurface);
        if (surface.role.kind !== 'none') {
          wm.postError(XdgWmBaseError.role, `wl_surface@${wlSurface.id} already has a role`);
          return;
        }
        if (surface.pending.buffer || surface.current) {
          // unconfigured_buffer is xdg_surface's error: post it on the new object.
          id.create(xdgSurfaceStub()).postError(XdgSurfaceError.unconfiguredBuffer, 'xdg_surface created on a surface with a buffer');
          return;
        }
        id.create({
          destroy: destroyResource,
          getToplevel: (xs, tid) => {
            if (surface.role.kind !== 'none') {
              xs.postError(XdgSurfaceError.alreadyConstructed, 'xdg_surface already has a role object');
              return;
            }
            surface.role = { kind: 'xdg_toplevel', title: '', appId: '' };
            const toplevel = tid.create(toplevelImpl(surface.role));
            // Initial commit → initial configure; the window maps then (a one-shot commit hook).
            const removeHook = surface.addCommitHook(() => {
              removeHook();
              if (toplevel.destroyed || xs.destroyed) return;
              // Since v5 wm_capabilities comes before the first configure; an
              // empty array: none of maximize, fullscreen, minimize or the
              // window menu does anything here.
              if (toplevel.version >= 5) toplevel.send.wmCapabilities(new Uint8Array(0));
              toplevel.send.configure(0, 0, new Uint8Array(0));
              xs.send.configure(c.display.nextSerial());
              c.mapSurface(surface);
            });
          },
          getPopup: (_xs, pid, parent) => {
            // invalid_popup_parent is xdg_wm_base's error (code 3 on xdg_surface is
            // unconfigured_buffer): post it on the wm_base. handoff has no popups,
            // so a valid parent is refused the same way, with the reason.
            pid.create(popupStub);
            wm.postError(
              XdgWmBaseError.invalidPopupParent,
              parent === null ? 'xdg_surface.get_popup without a parent' : 'popups are not supported by handoff',
            );
          },
          setWindowGeometry: () => {},
          ackConfigure: () => {},
        });
      },
    });
  });
}

function toplevelImpl(role: { title: string; appId: string }): XdgToplevelRequests {
  return {
    destroy: destroyResource,
    setParent() {},
    setTitle(_r: Resource<'xdg_toplevel'>, title: string) {
      role.title = title;
    },
    setAppId(_r: Resource<'xdg_toplevel'>, appId: string) {
      role.appId = appId;
    },
    showWindowMenu() {},
    move() {},
    resize() {},
    setMaxSize() {},
    setMinSize() {},
    setMaximized() {},
    unsetMaximized() {},
    setFullscreen() {},
    unsetFullscreen() {},
    setMinimized() {},
  };
}

const popupStub: XdgPopupRequests = { destroy: destroyResource, grab() {}, reposition() {} };

function xdgSurfaceStub() {
  return {
    destroy: destroyResource,
    getToplevel() {},
    getPopup() {},
    setWindowGeometry() {},
    ackConfigure() {},
  };
}
