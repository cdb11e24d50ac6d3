/**
 * Pixels of a screenshot, decoded by the browser itself (createImageBitmap
 * + a software 2D canvas): no PNG decoder needed in Node. pixi's
 * extract() reads zeros on WebGPU here, so screenshots are the truth.
 */
import type { Page } from 'playwright-core';

export interface Rgba {
  r: number;
  g: number;
  b: number;
  a: number;
}

/** Screenshot `selector` and read the pixels at the given points (CSS px of the element). */
export async function pixelsAt(page: Page, selector: string, points: readonly { x: number; y: number }[]): Promise<{ png: Buffer; pixels: Rgba[]; width: number; height: number }> {
  const png = await page.locator(selector).screenshot({ timeout: 15_000 });
  const result = await page.evaluate(
    async ({ b64, points }) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const bmp = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
      const canvas = new OffscreenCanvas(bmp.width, bmp.height);
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      if (!ctx) throw new Error('no 2d context');
      ctx.drawImage(bmp, 0, 0);
      const px = points.map(({ x, y }) => {
        const d = ctx.getImageData(Math.round(x), Math.round(y), 1, 1).data;
        return { r: d[0] ?? 0, g: d[1] ?? 0, b: d[2] ?? 0, a: d[3] ?? 0 };
      });
      return { pixels: px, width: bmp.width, height: bmp.height };
    },
    { b64: png.toString('base64'), points: [...points] },
  );
  return { png, ...result };
}

export function near(p: Rgba, rgb: readonly number[], tolerance = 12): boolean {
  return Math.abs(p.r - rgb[0]!) <= tolerance && Math.abs(p.g - rgb[1]!) <= tolerance && Math.abs(p.b - rgb[2]!) <= tolerance;
}
