import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'vite';

describe('the browser page', () => {
  it('builds with vite into an index.html and a script', async () => {
    const out = mkdtempSync(join(tmpdir(), 'handoff-page-'));
    try {
      await build({ configFile: 'vite.config.ts', logLevel: 'silent', build: { outDir: out, emptyOutDir: true } });
      const html = readFileSync(join(out, 'index.html'), 'utf8');
      expect(html).toContain('<title>handoff');
      const assets = readdirSync(join(out, 'assets'));
      const script = assets.find((f) => f.endsWith('.js'));
      expect(script).toBeDefined();
      expect(html).toContain(`assets/${script}`);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);
});
