/**
 * End-to-end harness: the real server (kernel, compositor, fastify app) on
 * 127.0.0.1 at a free port, serving a page built by vite into a temporary
 * directory, and Debian's Chromium driven by playwright-core with the flags
 * that give headless Chromium real WebGPU on SwiftShader
 * (../shared/reference/headless-webgpu.md): all four are needed for a
 * WebGPU canvas to present; `--enable-features` is last-wins, so
 * Playwright's own features are merged into ours.
 *
 * A missing Chromium fails the test with the install command: .ci/run
 * installs it, nothing skips silently.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { build } from 'vite';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildApp } from '../../server/app';
import { Kernel } from '../../shared/kernel/kernel';
import { hostClock } from '../../server/host-clock';
import { Compositor } from '../../server/compositor/compositor';
import type { LatchPolicy } from '../../server/compositor/types';
import type { PageState } from '../../client/page/main';

export const CHROMIUM = process.env.HANDOFF_CHROMIUM ?? '/usr/bin/chromium';

export const WEBGPU_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan,CDPScreenshotNewSurface,SkipListAccountsWithoutGaiaCookies',
  '--use-vulkan=swiftshader',
  '--use-angle=swiftshader',
];

/** Without WebGPU (the fallback test). */
export const NO_WEBGPU_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-features=WebGPU'];

let built: { dir: string; users: number } | null = null;

/** vite build of the page, once per test file (≈1.5 s). */
export async function buildPage(): Promise<string> {
  if (built) {
    built.users++;
    return built.dir;
  }
  const dir = mkdtempSync(join(tmpdir(), 'handoff-e2e-dist-'));
  await build({ configFile: 'vite.config.ts', logLevel: 'silent', build: { outDir: dir, emptyOutDir: true } });
  built = { dir, users: 1 };
  return dir;
}

export function releasePage(): void {
  if (!built) return;
  built.users--;
  if (built.users === 0) {
    rmSync(built.dir, { recursive: true, force: true });
    built = null;
  }
}

export interface ServerOptions {
  policy?: LatchPolicy;
  refreshHz?: number;
  slowMotion?: number;
}

export interface TestServer {
  readonly url: string;
  readonly kernel: Kernel;
  readonly compositor: Compositor;
  close(): Promise<void>;
}

export async function startServer(distDir: string, options: ServerOptions = {}): Promise<TestServer> {
  const kernel = new Kernel({ clock: hostClock() });
  const compositor = new Compositor({
    kernel,
    policy: options.policy ?? 'cpu-wait',
    mode: { refreshHz: options.refreshHz ?? 10, slowMotion: options.slowMotion ?? 1 },
  });
  const app = buildApp({ kernel, compositor, distDir });
  app.addHook('onClose', async () => compositor.shutdown());
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, kernel, compositor, close: () => app.close() };
}

export async function launchBrowser(args: readonly string[] = WEBGPU_ARGS): Promise<{ browser: Browser; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's Chromium (apt-get update && apt-get install -y --no-install-recommends chromium), as .ci/run does`);
  }
  // Crash dumps go to $XDG_CONFIG_HOME even with --disable-breakpad: keep them out of $HOME.
  const config = mkdtempSync(join(tmpdir(), 'handoff-e2e-xdg-'));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...args],
    env: { ...process.env, XDG_CONFIG_HOME: config },
    timeout: 30_000,
  });
  return {
    browser,
    async close() {
      await browser.close();
      rmSync(config, { recursive: true, force: true });
    },
  };
}

export interface OpenedPage {
  readonly page: Page;
  /** Console errors and page errors, for assertion messages. */
  readonly logs: string[];
}

export async function openPage(browser: Browser, url: string): Promise<OpenedPage> {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  const logs: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') logs.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  await page.goto(url, { timeout: 20_000 });
  return { page, logs };
}

/** The page's window.__handoff. */
export function pageState(page: Page): Promise<PageState> {
  return page.evaluate(() => window.__handoff);
}

/**
 * Poll the page's state until `pred` holds; on timeout the error carries
 * the last state and the console, so a failure says what the page saw.
 */
export async function waitForState(opened: OpenedPage, pred: (s: PageState) => boolean, what: string, timeoutMs = 20_000): Promise<PageState> {
  const end = Date.now() + timeoutMs;
  let last: PageState | undefined;
  while (Date.now() < end) {
    last = await pageState(opened.page);
    if (last && pred(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `timed out waiting for ${what}\nlast state: ${JSON.stringify(last, null, 1)?.slice(0, 3000)}\nconsole:\n${opened.logs.slice(-20).join('\n')}`,
  );
}
