import { describe, expect, it } from 'vitest';
import { decodeBufferIds } from '../../client/page/display';
import { BufferTextures } from '../../client/page/buffer-textures';
import { TextureUsage } from '../../client/page/gpu-device';

/** Enough of a GPUTexture for the registry (it only reads usage). */
function texture(usage: number): GPUTexture {
  return { usage } as unknown as GPUTexture;
}

describe('composition job buffers', () => {
  it('decodes the job event array as little-endian u32 dma-buf ids', () => {
    const bytes = new Uint8Array([1, 0, 0, 0, 0x2c, 0x01, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    expect(decodeBufferIds(bytes)).toEqual([1, 300, 0xffff_ffff]);
  });

  it('decodes from a view into a larger buffer (the wire frame)', () => {
    const frame = new Uint8Array([9, 9, 9, 9, 7, 0, 0, 0]);
    expect(decodeBufferIds(frame.subarray(4))).toEqual([7]);
  });
});

describe('buffer textures', () => {
  it('refuses a texture the display could not sample (no TEXTURE_BINDING): it would black out every window', () => {
    const reg = new BufferTextures();
    expect(() => reg.register({ buf: 4, texture: texture(TextureUsage.RENDER_ATTACHMENT), width: 8, height: 8, owner: 'c' })).toThrow(/TEXTURE_BINDING/);
    expect(reg.get(4)).toBeUndefined();
  });

  it('maps a dma-buf id to its texture until unregistered, and refuses the same id twice', () => {
    const reg = new BufferTextures();
    const bt = { buf: 4, texture: texture(TextureUsage.TEXTURE_BINDING | TextureUsage.RENDER_ATTACHMENT), width: 8, height: 8, owner: 'c' };
    reg.register(bt);
    expect(reg.get(4)).toBe(bt);
    expect(() => reg.register(bt)).toThrow(/twice/);
    reg.unregister(4);
    expect(reg.get(4)).toBeUndefined();
  });
});
