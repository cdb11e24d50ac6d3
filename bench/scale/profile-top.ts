/**
 * The hot spots of a V8 CPU profile (node --cpu-prof), as file:function
 * and share of the samples: self time (where the CPU was) and, per file,
 * the sum of its functions' self time.
 *
 *   npx tsx bench/scale/profile-top.ts bench/results/profiles/CPU.*.cpuprofile [--top=25]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  name: string;
  selfMs: number;
  share: number;
}

/** Repository-relative where possible: node_modules/… and node:… stay as they are. */
function shortUrl(url: string): string {
  if (url === '') return '(native)';
  const i = url.indexOf('/node_modules/');
  if (i >= 0) return url.slice(i + 1);
  const m = /\/(server|client|shared|bench)\/.*$/.exec(url);
  return m ? m[0].slice(1) : url.replace(/^file:\/\//, '');
}

export function hotSpots(profile: CpuProfile): { functions: HotSpot[]; files: HotSpot[]; totalMs: number } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + dt);
    total += dt;
  });
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const url = shortUrl(n.callFrame.url);
    const name = `${url}:${n.callFrame.functionName || '(anonymous)'}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
    fn.set(name, (fn.get(name) ?? 0) + us);
    file.set(url, (file.get(url) ?? 0) + us);
  }
  const list = (m: Map<string, number>): HotSpot[] =>
    [...m].map(([name, us]) => ({ name, selfMs: us / 1000, share: total > 0 ? us / total : 0 })).sort((a, b) => b.selfMs - a.selfMs);
  return { functions: list(fn), files: list(file), totalMs: total / 1000 };
}

function main(): void {
  const args = process.argv.slice(2);
  const top = Number(args.find((a) => a.startsWith('--top='))?.slice(6) ?? 25);
  for (const path of args.filter((a) => !a.startsWith('--'))) {
    const h = hotSpots(JSON.parse(readFileSync(path, 'utf8')) as CpuProfile);
    process.stdout.write(`${path}: ${(h.totalMs / 1000).toFixed(1)} s sampled\n\nself time by function:\n`);
    for (const s of h.functions.slice(0, top)) process.stdout.write(`  ${(s.share * 100).toFixed(1).padStart(5)}%  ${s.name}\n`);
    process.stdout.write('\nself time by file:\n');
    for (const s of h.files.slice(0, top)) process.stdout.write(`  ${(s.share * 100).toFixed(1).padStart(5)}%  ${s.name}\n`);
  }
}

main();
