/**
 * xdg-shell as the XML says (issue 14): wm_capabilities before the first
 * configure since v5, and get_popup's invalid_popup_parent on the
 * xdg_wm_base, the object whose error it is.
 */
import { describe, expect, it } from 'vitest';
import { Harness } from './harness';
import { wlCompositorInterface } from '../../../shared/protocol/generated/wayland';
import { xdgWmBaseInterface, XdgWmBaseError } from '../../../shared/protocol/generated/xdg-shell';

async function toplevel(version: number) {
  const h = new Harness();
  const c = await h.connect('app');
  const wm = c.env.bind(xdgWmBaseInterface, version);
  const surface = c.env.bind(wlCompositorInterface, 6).send.createSurface();
  const xs = wm.send.getXdgSurface(surface);
  const events: string[] = [];
  xs.setListener({ configure: () => events.push('xdg_surface.configure') });
  xs.send.getToplevel().setListener({
    wmCapabilities: (caps) => events.push(`wm_capabilities [${caps.length} bytes]`),
    configure: () => events.push('xdg_toplevel.configure'),
  });
  surface.send.commit();
  c.env.flush();
  await h.settle();
  return { h, c, events };
}

describe('xdg_toplevel.wm_capabilities', () => {
  it('is sent before the first configure at version 5, empty: no window management request does anything here', async () => {
    const { c, events } = await toplevel(5);
    expect(events).toEqual(['wm_capabilities [0 bytes]', 'xdg_toplevel.configure', 'xdg_surface.configure']);
    expect(c.conn.error).toBeNull();
  });

  it('is not sent to a version 4 toplevel', async () => {
    const { events } = await toplevel(4);
    expect(events).toEqual(['xdg_toplevel.configure', 'xdg_surface.configure']);
  });
});

describe('xdg_surface.get_popup', () => {
  for (const withParent of [false, true]) {
    it(`${withParent ? 'with a parent' : 'without a parent'}: invalid_popup_parent is posted on the xdg_wm_base, not the xdg_surface`, async () => {
      const h = new Harness();
      const c = await h.connect('popup');
      const other = await h.connect('bystander');
      const wm = c.env.bind(xdgWmBaseInterface, 5);
      const compositor = c.env.bind(wlCompositorInterface, 6);
      const parentSurface = compositor.send.createSurface();
      const parent = wm.send.getXdgSurface(parentSurface);
      parent.send.getToplevel();
      parentSurface.send.commit();
      const xs = wm.send.getXdgSurface(compositor.send.createSurface());
      xs.send.getPopup(withParent ? parent : null, wm.send.createPositioner());
      c.env.flush();
      await h.settle();
      expect(c.conn.error).toMatchObject({ kind: 'protocol', objectId: wm.id, interface: 'xdg_wm_base', code: XdgWmBaseError.invalidPopupParent });
      const rt = other.env.roundtrip();
      await h.settle();
      await expect(rt).resolves.toBeTypeOf('number');
    });
  }
});
