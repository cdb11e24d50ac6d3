/**
 * npm run demo -- --clients explicit,implicit,slow-implicit --policy gpu-wait --refresh 60 --seconds 10
 *
 * Starts the server and headless clients of each kind, prints a live
 * progress line per second, then a summary table.
 */
import { runDemo, type ClientRow, type DemoOptions } from './run-demo';
import { parseClientSpec } from '../client/node/headless-client';
import { DEFAULT_CONTROL_SETTINGS, LATCH_POLICIES, parseLatchPolicy, parseNumericSetting, type NumericSetting } from '../shared/control';

const USAGE = `usage: npm run demo -- [--clients k1,k2,...] [--policy ${LATCH_POLICIES.join('|')}] [--refresh HZ] [--slow-motion X] [--seconds S]
  kinds: explicit, explicit-fd, implicit, bridged, naive, each optionally slow- (e.g. slow-implicit)`;

function fail(message: string): never {
  process.stderr.write(`demo: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): DemoOptions {
  const o: DemoOptions = {
    clients: ['explicit', 'explicit-fd', 'implicit', 'bridged', 'slow-implicit', 'naive'],
    policy: DEFAULT_CONTROL_SETTINGS.policy,
    refreshHz: DEFAULT_CONTROL_SETTINGS.refreshHz,
    seconds: 10,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      const v = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      if (v === undefined || v === '') fail(`${flag} needs a value`);
      return v;
    };
    const setting = (name: NumericSetting): number => {
      const v = parseNumericSetting(name, value(), flag);
      if (typeof v === 'object') fail(v.error);
      return v;
    };
    const num = (lo: number, hi: number): number => {
      const v = Number(value());
      if (!Number.isFinite(v) || v < lo || v > hi) fail(`${flag} must be a number ${lo}..${hi}`);
      return v;
    };
    switch (flag) {
      case '--clients':
        o.clients = value().split(',').map((s) => s.trim()).filter(Boolean);
        for (const c of o.clients) {
          try {
            parseClientSpec(c);
          } catch (e) {
            fail((e as Error).message);
          }
        }
        break;
      case '--policy': {
        const p = parseLatchPolicy(value(), flag);
        if (typeof p === 'object') fail(p.error);
        o.policy = p;
        break;
      }
      case '--refresh':
        o.refreshHz = setting('refreshHz');
        break;
      case '--slow-motion':
        o.slowMotion = setting('slowMotion');
        break;
      case '--seconds':
        o.seconds = num(1, 3600);
        break;
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
        break;
      default:
        fail(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  if (o.clients.length === 0) fail('--clients needs at least one kind');
  return o;
}

function table(rows: ClientRow[]): string {
  const head = ['client', 'presented', 'discarded', 'fps', 'p50 ms', 'p99 ms', 'p50 vbl', 'p99 vbl', 'missed', 'hazards'];
  const body = rows.map((r) => [
    r.name,
    String(r.presented),
    String(r.discarded),
    r.fps.toFixed(1),
    r.latencyP50Ms.toFixed(1),
    r.latencyP99Ms.toFixed(1),
    String(r.latencyP50Vblanks),
    String(r.latencyP99Vblanks),
    String(r.missed),
    String(r.hazards),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  process.stdout.write(
    `handoff demo: ${options.clients.join(', ')} | policy ${options.policy} | ${options.refreshHz} Hz${options.slowMotion ? ` | slow motion x${options.slowMotion}` : ''} | ${options.seconds} s\n`,
  );
  const tty = process.stdout.isTTY;
  const result = await runDemo(options, (rows, elapsed) => {
    const line = `${elapsed.toFixed(0).padStart(3)} s  ${rows.map((r) => `${r.name} ${r.fps.toFixed(0)}fps${r.missed ? ` ${r.missed}missed` : ''}${r.hazards ? ` ${r.hazards}hz` : ''}`).join(' | ')}`;
    if (tty) process.stdout.write(`\r\x1b[K${line}`);
    else process.stdout.write(`${line}\n`);
  });
  if (tty) process.stdout.write('\n');
  process.stdout.write(`\n${table(result.rows)}\n\n`);
  process.stdout.write(
    `output: ${result.flips} flips, ${result.outputMissed} missed vblanks, ${result.hazards} hazards in ${result.seconds.toFixed(1)} s\n`,
  );
  process.exit(0);
}

void main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
