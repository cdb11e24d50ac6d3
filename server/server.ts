/**
 * The server process: config from flags and env, pino logging, listen, and
 * an orderly shutdown on SIGINT/SIGTERM (every client gets a 1001 "going
 * away" close frame before the socket goes). The app itself is app.ts.
 *
 *   npm start -- --port 8080 --host 127.0.0.1 --policy gpu-wait --refresh 60
 */
import { buildApp } from './app';
import { parseConfig } from './config';
import { Kernel } from '../shared/kernel/kernel';
import { hostClock } from './host-clock';
import { Compositor } from './compositor/compositor';

async function main(): Promise<void> {
  const parsed = parseConfig(process.argv.slice(2), process.env);
  if (!parsed.ok) {
    process.stderr.write(`handoff: ${parsed.error}\n`);
    process.exit(2);
  }
  const { host, port, origins, logLevel, policy, refreshHz, slowMotion } = parsed.config;
  const kernel = new Kernel({ clock: hostClock() });
  const compositor = new Compositor({ kernel, policy, mode: { refreshHz, slowMotion } });
  const app = buildApp({ kernel, compositor, origins, logger: { level: logLevel } });
  app.addHook('onClose', async () => compositor.shutdown());

  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) {
      // A second signal: stop waiting for clients.
      process.exit(1);
    }
    closing = true;
    app.log.info({ signal }, 'shutting down');
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  try {
    await app.listen({ host, port });
  } catch (err) {
    app.log.error({ err }, 'could not listen');
    process.exit(1);
  }
}

void main();
