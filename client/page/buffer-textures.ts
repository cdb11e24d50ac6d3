/**
 * The GPUTexture behind each dma-buf of an in-page client, keyed by the
 * dma-buf's id: the kernel's `buf`, which a client learns for its own
 * buffer with fstat (st_ino, as Linux userspace tells dma-bufs apart) and
 * which the compositor's composition jobs name. The display looks buffers
 * up here; a buffer of a client outside the page (a Node client) has no
 * texture and is drawn as a labelled placeholder.
 */
import { TextureUsage } from './gpu-device';

export interface BufferTexture {
  /** The dma-buf id (st_ino). */
  readonly buf: number;
  readonly texture: GPUTexture;
  readonly width: number;
  readonly height: number;
  /** The client's name, for labels. */
  readonly owner: string;
}

/** Usage a client texture needs: rendered into, and sampled by the display. */
export const BUFFER_TEXTURE_USAGE = TextureUsage.RENDER_ATTACHMENT | TextureUsage.TEXTURE_BINDING | TextureUsage.COPY_SRC;

export class BufferTextures {
  private readonly byBuf = new Map<number, BufferTexture>();

  /**
   * A texture the display cannot sample would make the whole composition
   * fail (a black frame for everyone): refuse it here, where the client
   * can be told.
   */
  register(bt: BufferTexture): void {
    if ((bt.texture.usage & TextureUsage.TEXTURE_BINDING) === 0) {
      throw new Error(`buffer ${bt.buf}: its texture lacks TEXTURE_BINDING, the display could not sample it`);
    }
    if (this.byBuf.has(bt.buf)) throw new Error(`buffer ${bt.buf} is registered twice`);
    this.byBuf.set(bt.buf, bt);
  }

  /**
   * The buffer is gone. The texture itself is left to the garbage
   * collector, not destroyed: a composition may still be sampling it, and
   * a destroyed texture on screen fails the whole submission.
   */
  unregister(buf: number): void {
    this.byBuf.delete(buf);
  }

  get(buf: number): BufferTexture | undefined {
    return this.byBuf.get(buf);
  }

  get size(): number {
    return this.byBuf.size;
  }
}
