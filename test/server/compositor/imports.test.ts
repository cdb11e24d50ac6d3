/**
 * The compositor's rooms (issue 11): no file in server/compositor/ imports
 * from server/ outside it (the transport), and its modules form no import
 * circle — type-only imports included, so the protocol files depend on the
 * narrow CompositorContext, never on the Compositor class that registers
 * them. A small import graph read from the sources (madge is not installed).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const COMPOSITOR = join(ROOT, 'server/compositor');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** Relative imports of a file (static `import`/`export … from`, type-only ones too), resolved to .ts paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gms)) {
    const spec = m[1]!;
    const base = resolve(dirname(file), spec);
    out.push(base.endsWith('.ts') ? base : `${base}.ts`);
  }
  return out;
}

function cycles(files: readonly string[]): string[][] {
  const inside = new Set(files);
  const graph = new Map(files.map((f) => [f, importsOf(f).filter((i) => inside.has(i))]));
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 'open');
    stack.push(f);
    for (const next of graph.get(f) ?? []) {
      const s = state.get(next);
      if (s === 'open') found.push([...stack.slice(stack.indexOf(next)), next].map((p) => relative(ROOT, p)));
      else if (s === undefined) visit(next);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f);
  return found;
}

describe('server/compositor imports', () => {
  const files = tsFiles(COMPOSITOR);

  it('no file imports from server/ outside server/compositor/', () => {
    const outside = files.flatMap((f) =>
      importsOf(f)
        .filter((i) => i.startsWith(join(ROOT, 'server')) && !i.startsWith(`${COMPOSITOR}/`))
        .map((i) => `${relative(ROOT, f)} → ${relative(ROOT, i)}`),
    );
    expect(outside).toEqual([]);
  });

  it('no import circle, type-only imports included', () => {
    expect(cycles(files)).toEqual([]);
  });
});
