import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The client library's rooms, checked on the import graph: client/core
 * runs in the browser and in Node, so it reaches neither client/node nor
 * the page, nor any package; the page never reaches Node-only code or the
 * server, and runs no part of the kernel model beyond its uapi headers.
 * (Type-checking catches a Node global in the page; an import of ws would
 * bring Node's types along with it, so the graph is checked here.)
 */

const ROOT = resolve(__dirname, '../..');

interface Import {
  readonly spec: string;
  /** `import type` / `export type`: erased, nothing of it runs. */
  readonly typeOnly: boolean;
}

const IMPORT = /^\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => ({ spec: m[2] ?? '', typeOnly: m[1] !== undefined }));
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

function resolveRelative(from: string, spec: string): string {
  const base = resolve(dirname(from), spec);
  for (const candidate of [`${base}.ts`, join(base, 'index.ts'), base]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // try the next spelling
    }
  }
  throw new Error(`${relative(ROOT, from)}: cannot resolve ${spec}`);
}

/** Every module reachable from `entries` (repository-relative) and every package named. */
function graph(entries: string[], valueOnly: boolean): { modules: Set<string>; packages: Set<string> } {
  const modules = new Set<string>();
  const packages = new Set<string>();
  const todo = [...entries];
  for (let file = todo.pop(); file !== undefined; file = todo.pop()) {
    const rel = relative(ROOT, file);
    if (modules.has(rel)) continue;
    modules.add(rel);
    for (const imp of importsOf(file)) {
      if (valueOnly && imp.typeOnly) continue;
      if (imp.spec.startsWith('.')) todo.push(resolveRelative(file, imp.spec));
      else packages.add(imp.spec);
    }
  }
  return { modules, packages };
}

const core = tsFiles(join(ROOT, 'client/core'));
const page = tsFiles(join(ROOT, 'client/page'));

/** The kernel model's uapi headers: constants and struct shapes, what userspace compiles in. */
const KERNEL_UAPI = new Set(['shared/kernel/uapi.ts', 'shared/kernel/uapi-structs.ts', 'shared/kernel/vgpu-drm.ts', 'shared/kernel/errno.ts']);

describe('the client library’s rooms', () => {
  it('client/core reaches neither client/node, the page, the server nor any package', () => {
    const { modules, packages } = graph(core, false);
    expect([...modules].filter((m) => /^(client\/node|client\/page|server)\//.test(m))).toEqual([]);
    expect([...packages]).toEqual([]);
  });

  it('the page reaches no Node-only code, no server code and no ws', () => {
    const { modules, packages } = graph(page, false);
    expect([...modules].filter((m) => /^(client\/node|server|scripts|bench|test)\//.test(m))).toEqual([]);
    expect([...packages].filter((p) => p === 'ws' || p.startsWith('node:') || p.startsWith('@fastify/') || p === 'fastify')).toEqual([]);
  });

  it('the page runs no part of the kernel model but its uapi headers', () => {
    const { modules } = graph([...page, ...core], true);
    expect([...modules].filter((m) => m.startsWith('shared/kernel/') && !KERNEL_UAPI.has(m))).toEqual([]);
  });

  it('the graph walk sees imports (a check that finds none would pass anything)', () => {
    const { modules } = graph([join(ROOT, 'client/node/headless-client.ts')], false);
    expect(modules).toContain('client/core/sync/explicit.ts');
    expect(graph([join(ROOT, 'client/node/node-socket.ts')], false).packages).toContain('ws');
  });
});
