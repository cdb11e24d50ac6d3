/**
 * zwp_linux_dmabuf_v1 (advertised at v3): wl_buffers over dma-buf fds the
 * client allocated from /dev/dma_heap/system. One plane per buffer (the
 * formats offered are single-plane). Validation follows the XML's error
 * list: plane_idx, plane_set, already_used, incomplete, invalid_format,
 * invalid_dimensions, out_of_bounds. create (async) answers created or
 * failed; create_immed raises the error instead.
 */
import type { CompositorContext } from '../context';
import type { NewId, Resource } from '../../../shared/protocol/server';
import {
  ZwpLinuxBufferParamsV1Error,
  zwpLinuxDmabufV1Interface,
  type ZwpLinuxBufferParamsV1Requests,
} from '../../../shared/protocol/generated/linux-dmabuf-v1';
import { wlBufferInterface } from '../../../shared/protocol/generated/wayland';
import { dmaBufFromFile } from '../../../shared/kernel/dma-buf';
import { DmabufBuffer, type DmabufAttributes } from '../buffer';
import {
  DRM_FORMAT_ARGB8888,
  DRM_FORMAT_MOD_LINEAR_HI,
  DRM_FORMAT_MOD_LINEAR_LO,
  DRM_FORMAT_XRGB8888,
} from '../../../shared/protocol/drm-fourcc';
import { destroyResource } from './util';

/** The formats offered to clients. */
const FORMATS = [DRM_FORMAT_ARGB8888, DRM_FORMAT_XRGB8888];
const BYTES_PER_PIXEL = 4;

interface Plane {
  fd: number;
  offset: number;
  stride: number;
}

export function registerLinuxDmabuf(c: CompositorContext): void {
  c.display.createGlobal(zwpLinuxDmabufV1Interface, 3, (newId) => {
    const res = newId.create({
      destroy: destroyResource,
      createParams: (_r, id) => createParams(c, id),
      // Feedback objects are v4+; the global is v3, so the runtime rejects these.
      getDefaultFeedback: () => {},
      getSurfaceFeedback: () => {},
    });
    for (const f of FORMATS) {
      res.send.format(f);
      if (res.version >= 3) res.send.modifier(f, DRM_FORMAT_MOD_LINEAR_HI, DRM_FORMAT_MOD_LINEAR_LO);
    }
  });
}

function createParams(c: CompositorContext, id: NewId<'zwp_linux_buffer_params_v1'>): void {
  let plane: Plane | null = null;
  let used = false;
  const closePlane = (): void => {
    if (plane) c.proc.close(plane.fd);
    plane = null;
  };

  /** Checks of create/create_immed; returns the attributes or posts/reports the failure. */
  const validate = (
    width: number,
    height: number,
    format: number,
  ): { attrs: DmabufAttributes } | { error: number; message: string } => {
    if (used) return { error: ZwpLinuxBufferParamsV1Error.alreadyUsed, message: 'params already used to create a buffer' };
    used = true;
    if (!plane) return { error: ZwpLinuxBufferParamsV1Error.incomplete, message: 'no plane 0 added' };
    if (!FORMATS.includes(format)) {
      return { error: ZwpLinuxBufferParamsV1Error.invalidFormat, message: `format 0x${format.toString(16)} is not supported` };
    }
    if (width <= 0 || height <= 0) {
      return { error: ZwpLinuxBufferParamsV1Error.invalidDimensions, message: `invalid size ${width}x${height}` };
    }
    const buf = dmaBufFromFile(c.proc.fget(plane.fd));
    if (!buf) return { error: ZwpLinuxBufferParamsV1Error.invalidWlBuffer, message: 'plane 0 fd is not a dma-buf' };
    const need = BigInt(plane.offset) + BigInt(plane.stride) * BigInt(height);
    if (plane.stride < width * BYTES_PER_PIXEL || need > buf.size) {
      return {
        error: ZwpLinuxBufferParamsV1Error.outOfBounds,
        message: `plane 0 (offset ${plane.offset}, stride ${plane.stride}, ${height} rows) does not fit the ${buf.size}-byte dma-buf`,
      };
    }
    const attrs: DmabufAttributes = { fd: plane.fd, buf: buf.id, width, height, format, offset: plane.offset, stride: plane.stride };
    plane = null; // the buffer owns the fd now
    return { attrs };
  };

  const makeBuffer = (attrs: DmabufAttributes, create: (b: DmabufBuffer) => Resource<'wl_buffer'>): Resource<'wl_buffer'> => {
    const buffer = new DmabufBuffer(c.proc, attrs);
    const res = create(buffer);
    buffer.resource = res;
    res.onDestroy(() => buffer.resourceGone());
    return res;
  };

  const impl: ZwpLinuxBufferParamsV1Requests = {
    destroy(r) {
      closePlane();
      r.destroy();
    },
    add(r, fd, planeIdx, offset, stride) {
      if (used) {
        c.proc.close(fd);
        r.postError(ZwpLinuxBufferParamsV1Error.alreadyUsed, 'params already used to create a buffer');
        return;
      }
      if (planeIdx !== 0) {
        c.proc.close(fd);
        r.postError(ZwpLinuxBufferParamsV1Error.planeIdx, `plane ${planeIdx}: only single-plane formats are offered`);
        return;
      }
      if (plane) {
        c.proc.close(fd);
        r.postError(ZwpLinuxBufferParamsV1Error.planeSet, 'plane 0 already set');
        return;
      }
      plane = { fd, offset, stride };
    },
    create(r, width, height, format) {
      const v = validate(width, height, format);
      if ('error' in v) {
        if (v.error === ZwpLinuxBufferParamsV1Error.alreadyUsed) r.postError(v.error, v.message);
        else {
          closePlane();
          r.send.failed();
        }
        return;
      }
      r.send.created(makeBuffer(v.attrs, (b) => r.client.createResource(wlBufferInterface, 1, b)));
    },
    createImmed(r, bufferId, width, height, format) {
      const v = validate(width, height, format);
      if ('error' in v) {
        closePlane();
        bufferId.create({ destroy: destroyResource });
        r.postError(v.error, v.message);
        return;
      }
      makeBuffer(v.attrs, (b) => bufferId.create(b));
    },
  };
  const res = id.create(impl);
  res.onDestroy(closePlane);
}

