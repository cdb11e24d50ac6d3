/**
 * The kernel model is self-contained and deterministic: its code reaches no
 * host clock, host timer, host randomness or host object, and imports only
 * itself. shared/tsconfig.json (no DOM, no Node types) catches direct uses;
 * this catches the ones a cast through globalThis would hide.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const KERNEL_DIR = join(import.meta.dirname, '../../shared/kernel');

/** The source with comments and the contents of string literals blanked (a rough lexer: enough for our own code). */
function codeOnly(src: string): string {
  let out = '';
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    const next = src[i + 1];
    if (c === '/' && next === '/') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      const end = src.indexOf('*/', i + 2);
      i = end < 0 ? src.length : end + 2;
      out += ' ';
    } else if (c === "'" || c === '"' || c === '`') {
      i++;
      while (i < src.length && src[i] !== c) i += src[i] === '\\' ? 2 : 1;
      i++;
      out += `${c}${c}`;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const FORBIDDEN: readonly [string, RegExp][] = [
  ['setTimeout', /\bsetTimeout\b/],
  ['setInterval', /\bsetInterval\b/],
  ['setImmediate', /\bsetImmediate\b/],
  ['queueMicrotask', /\bqueueMicrotask\b/],
  ['Date', /\bDate\b/],
  ['Math.random', /\bMath\s*\.\s*random\b/],
  ['performance', /\bperformance\b/],
  ['process.', /\bprocess\s*\./],
  ['window', /\bwindow\b/],
  ['globalThis', /\bglobalThis\b/],
  ['require', /\brequire\s*\(/],
];

const files = readdirSync(KERNEL_DIR).filter((f) => f.endsWith('.ts'));

describe('shared/kernel is self-contained', () => {
  it('the scanner blanks comments and strings, and keeps code', () => {
    expect(codeOnly("a(); // setTimeout\n/* Date.now() */ b('process.exit', \"window\"); setTimeout(f)")).toBe(
      "a(); \n  b('', \"\"); setTimeout(f)",
    );
  });

  it('has modules to check', () => {
    expect(files).toContain('kernel.ts');
    expect(files).toContain('clock.ts');
  });

  it.each(files)('%s uses no host clock, timer, randomness or global', (file) => {
    const code = codeOnly(readFileSync(join(KERNEL_DIR, file), 'utf8'));
    const found = FORBIDDEN.filter(([, re]) => re.test(code)).map(([name]) => name);
    expect(found).toEqual([]);
  });

  it.each(files)('%s imports only from shared/kernel', (file) => {
    const src = readFileSync(join(KERNEL_DIR, file), 'utf8');
    const specifiers = [...src.matchAll(/\bfrom\s+'([^']+)'/g)].map((m) => m[1] as string);
    expect(specifiers.filter((s) => !s.startsWith('./'))).toEqual([]);
  });
});
