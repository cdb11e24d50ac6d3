/**
 * The page shell: reads the scene from the URL, opens the page's GPU
 * device, makes the pixi desktop the compositor's display, starts the
 * scene's clients, and keeps the controls, the URL and the frame-timing
 * panel in step. Each concern is its own module:
 *
 *   gpu-device.ts      the one GPUDevice (and the no-WebGPU explanation)
 *   display.ts         handoff_display_v1: composition jobs → done
 *   desktop-scene.ts   the pixi desktop the jobs draw
 *   desktop-model.ts   windows, titles, fences, timing from /trace
 *   page-clients.ts    the in-page clients (webgpu-client.ts draws them)
 *   timing-charts.ts   frame timing with uPlot
 *   controls.ts        the controls;  url-state.ts  the scene in the URL
 *
 * window.__handoff exposes the page's state to the end-to-end tests.
 */
import { applyTraceEvent, createDesktopModel, isWaitingOnFence, type DesktopModel } from './desktop-model';
import { BufferTextures } from './buffer-textures';
import { describeAdapter, openGpu, submittedWorkDone, type GpuAdapterInfo, type PageGpu } from './gpu-device';
import { DesktopScene, type ComposedWindow } from './desktop-scene';
import { fetchDisplayToken, startDisplay, type DisplayStatus, type JobResult } from './display';
import { openTraceFeed } from './trace-feed';
import { PageClients } from './page-clients';
import { TimingPanel } from './timing-charts';
import { Controls, type CompositorSettings } from './controls';
import { createSampleRing, pushSample } from './frame-timing';
import { formatScene, parseScene, type ClientSpec, type SceneState } from './url-state';

/** What the end-to-end tests read (page.evaluate). */
export interface PageState {
  ready: boolean;
  webgpu: { ok: true; info: GpuAdapterInfo; renderer: string } | { ok: false; reason: string } | null;
  display: DisplayStatus | null;
  /** The last composition's windows. */
  composed: ComposedWindow[];
  /** The last jobs' page-side timings. */
  jobs: (JobResult & { id: number; buffers: number })[];
  clients: {
    serial: number;
    mode: string;
    comm: string;
    pid: number | undefined;
    bufs: number[];
    /** Frames drawn on the GPU. */
    frames: number;
    /** wp_presentation_feedback counts the client received. */
    presented: number;
    discarded: number;
    colour: readonly number[];
  }[];
  /** Windows as the desktop model sees them (from /trace). */
  windows: { key: string; title: string; presented: number; discarded: number; waitingOnFence: boolean }[];
  sceneErrors: readonly string[];
  problems: string[];
}

declare global {
  interface Window {
    __handoff: PageState;
  }
}

const state: PageState = { ready: false, webgpu: null, display: null, composed: [], jobs: [], clients: [], windows: [], sceneErrors: [], problems: [] };
window.__handoff = state;

const $ = <T extends HTMLElement>(sel: string): T => {
  const e = document.querySelector<T>(sel);
  if (!e) throw new Error(`page: ${sel} missing from index.html`);
  return e;
};

function wsUrl(): string {
  const u = new URL('/ws', location.href);
  u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.toString();
}

const statusEl = $<HTMLElement>('#status');
const problemsEl = $<HTMLElement>('#problems');

function problem(text: string): void {
  state.problems.push(text);
  const li = document.createElement('li');
  li.textContent = text;
  problemsEl.append(li);
}

async function getSettings(): Promise<CompositorSettings | null> {
  try {
    const res = await fetch('/control');
    return (await res.json()) as CompositorSettings;
  } catch {
    return null;
  }
}

async function postControl(body: Record<string, unknown>): Promise<string | null> {
  const res = await fetch('/control', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.ok) return null;
  const json = (await res.json().catch(() => ({}))) as { error?: string; message?: string };
  return json.error ?? json.message ?? `the server answered ${res.status}`;
}

async function boot(): Promise<void> {
  const parsed = parseScene(location.search);
  let scene: SceneState = parsed.scene;
  state.sceneErrors = parsed.errors;
  for (const e of parsed.errors) problem(`URL: ${e}`);

  const model: DesktopModel = createDesktopModel();
  const textures = new BufferTextures();
  const compositionMs = createSampleRing(600);

  const gpuResult = await openGpu();
  let gpu: PageGpu | null = null;
  let desktop: DesktopScene | null = null;
  if (gpuResult.ok) {
    gpu = gpuResult.gpu;
    try {
      desktop = await DesktopScene.create(gpu);
      $<HTMLElement>('#desktop').append(desktop.canvas);
      state.webgpu = { ok: true, info: gpu.info, renderer: desktop.app.renderer.name };
      statusEl.textContent = `WebGPU: ${describeAdapter(gpu.info)}. The desktop below is the compositor's display.`;
      void gpu.device.lost.then((l) =>
        problem(`The GPU device was lost (${l.reason}: ${l.message}). Compositions now fail with EIO; reload the page to get a new device.`),
      );
    } catch (err) {
      state.webgpu = { ok: false, reason: `pixi.js could not start on WebGPU: ${err instanceof Error ? err.message : String(err)}` };
      gpu = null;
    }
  } else {
    state.webgpu = { ok: false, reason: gpuResult.reason };
  }
  if (!state.webgpu.ok) {
    statusEl.textContent =
      `No WebGPU here: ${state.webgpu.reason} The clients run on the simulated engine and the compositor composes on its own; ` +
      'frame timing below still works. In Chrome or Chromium, WebGPU needs a supported GPU or --enable-unsafe-webgpu.';
    statusEl.className = 'warning';
    $<HTMLElement>('#desktop').textContent = 'No desktop: this browser gave the page no WebGPU adapter.';
  }

  const clients = new PageClients(wsUrl(), gpu, textures);
  const trace = { connected: false };
  openTraceFeed({
    origin: location.origin,
    onEvents: (events) => {
      for (const ev of events) {
        applyTraceEvent(model, ev);
        clients.onTraceEvent(ev);
      }
    },
    onReset: () => Object.assign(model, createDesktopModel()),
    onStatus: (c) => (trace.connected = c),
  });

  const settings = await getSettings();
  const controls = new Controls($<HTMLElement>('#controls'), {
    addClient: (spec) => void addClient(spec),
    removeClient: (serial) => void removeClient(serial),
    removeAllClients: () => void clients.removeAll().then(syncClients),
    setCompositor: (s) => void applyCompositor(s),
    setLegacyReplaceImport: (on) => void applyLegacy(on),
  });
  if (settings) controls.showSettings(settings);

  const syncUrl = (): void => {
    scene = { ...scene, clients: clients.list.map((c) => c.spec) };
    history.replaceState(null, '', `${location.pathname}${formatScene(scene)}`);
  };
  const syncClients = (): void => {
    controls.showClients(clients.list.map((c) => ({ serial: c.serial, spec: c.spec, title: `client ${c.serial} (${c.spec.mode})`, colour: c.colour })));
    syncUrl();
  };
  async function addClient(spec: ClientSpec): Promise<void> {
    if (clients.list.length >= 253) {
      controls.say('A page holds at most 255 WebSockets; the display and the trace use two, so 253 clients is the limit.', 'error');
      return;
    }
    try {
      await clients.add(spec);
      syncClients();
    } catch (err) {
      controls.say(`Could not add a ${spec.mode} client: ${err instanceof Error ? err.message : String(err)}`, 'error');
    }
  }
  async function removeClient(serial: number): Promise<void> {
    await clients.remove(serial);
    syncClients();
  }
  async function applyCompositor(s: Partial<CompositorSettings>): Promise<void> {
    const error = await postControl(s);
    if (error) controls.say(`The compositor refused: ${error}`, 'error');
    else controls.say('Applied.');
    const now = await getSettings();
    if (now) {
      controls.showSettings(now);
      scene = { ...scene, policy: now.policy, refreshHz: now.refreshHz, slowMotion: now.slowMotion };
      syncUrl();
    }
  }
  async function applyLegacy(on: boolean): Promise<void> {
    const error = await postControl({ legacyReplaceImport: on });
    if (error) {
      controls.say(`The server did not take the legacy switch: ${error}`, 'error');
      controls.showLegacy(!on);
      return;
    }
    scene = { ...scene, legacyReplaceImport: on };
    syncUrl();
  }

  // The scene's server settings first, so its clients start under them.
  const wanted: Partial<CompositorSettings> = {
    ...(scene.policy !== undefined ? { policy: scene.policy } : {}),
    ...(scene.refreshHz !== undefined ? { refreshHz: scene.refreshHz } : {}),
    ...(scene.slowMotion !== undefined ? { slowMotion: scene.slowMotion } : {}),
  };
  if (Object.keys(wanted).length > 0) await applyCompositor(wanted);
  if (scene.legacyReplaceImport) {
    controls.showLegacy(true);
    await applyLegacy(true);
  }

  if (gpu && desktop) {
    const g = gpu;
    const d = desktop;
    try {
      const token = await fetchDisplayToken(location.origin);
      const display = await startDisplay({
        wsUrl: wsUrl(),
        token,
        runJob: async (job) => {
          const t0 = performance.now();
          state.composed = d.compose(job.buffers, model, textures, t0);
          const t1 = performance.now();
          const error = await submittedWorkDone(g);
          const t2 = performance.now();
          pushSample(compositionMs, t2, t2 - t1);
          const result: JobResult = { error, recordMs: t1 - t0, submitToDoneMs: t2 - t1 };
          state.jobs.push({ ...result, id: job.id, buffers: job.buffers.length });
          if (state.jobs.length > 200) state.jobs.splice(0, state.jobs.length - 200);
          return result;
        },
        onGone: (reason) => problem(`${reason} — the compositor composes on its simulated engine now; reload the page to show the desktop again.`),
      });
      state.display = display.status;
    } catch (err) {
      problem(`This page could not become the display: ${err instanceof Error ? err.message : String(err)} (is another page already the display?)`);
    }
  }

  for (const spec of scene.clients) await addClient(spec);
  syncClients();

  const panel = new TimingPanel($<HTMLElement>('#timing'));
  let latest = settings;
  setInterval(() => {
    panel.update(model, { compositionMs, pageNowMs: performance.now(), refreshHz: latest?.refreshHz, slowMotion: latest?.slowMotion });
    state.clients = clients.list.map((c) => ({
      serial: c.serial,
      mode: c.spec.mode,
      comm: c.comm,
      pid: c.pid,
      bufs: [...c.bufs],
      frames: c.gpu?.stats.frames ?? 0,
      presented: c.protocol.stats.presented,
      discarded: c.protocol.stats.discarded,
      colour: c.colour,
    }));
    state.windows = [...model.windows.values()].map((w) => {
      const client = model.clients.get(w.client);
      return {
        key: w.key,
        title: client?.title || client?.name || w.key,
        presented: w.timing.presented,
        discarded: w.timing.discarded,
        waitingOnFence: isWaitingOnFence(w),
      };
    });
    if (!trace.connected) statusEl.dataset.trace = 'disconnected';
    else delete statusEl.dataset.trace;
  }, 500);
  setInterval(() => void getSettings().then((s) => (latest = s ?? latest)), 2000);
  state.ready = true;
}

boot().catch((err: unknown) => {
  problem(`The page failed to start: ${err instanceof Error ? err.message : String(err)}`);
});
