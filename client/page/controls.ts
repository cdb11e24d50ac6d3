/**
 * The controls: add and remove clients of each sync mode (with buffer
 * count and GPU load), the latch policy, refresh rate, slow motion, and the
 * kernel's legacy replace-import switch (the 2020 behaviour Linux
 * rejected). Plain form elements, so everything works from the keyboard
 * (Tab, arrows, Enter, Space) and with a screen reader; sizes come from
 * the page's CSS, which is set for a projector.
 *
 * The module only builds DOM and reports intents; main.ts decides what
 * they do (server settings, the URL, the clients).
 */
import { BUFFERS_MAX, BUFFERS_MIN, CLIENT_MODES, LATCH_POLICIES, LOAD_MAX, type ClientMode, type ClientSpec, type LatchPolicyName } from './url-state';

export interface CompositorSettings {
  readonly policy: LatchPolicyName;
  readonly refreshHz: number;
  readonly slowMotion: number;
}

export interface ControlIntents {
  addClient(spec: ClientSpec): void;
  removeClient(serial: number): void;
  removeAllClients(): void;
  setCompositor(settings: Partial<CompositorSettings>): void;
  setLegacyReplaceImport(on: boolean): void;
}

export interface ClientRow {
  readonly serial: number;
  readonly spec: ClientSpec;
  readonly title: string;
  readonly colour: readonly [number, number, number];
}

const MODE_HELP: Record<ClientMode, string> = {
  explicit: 'explicit (linux-drm-syncobj-v1 timelines)',
  'explicit-fd': 'explicit (sync_file, linux-explicit-synchronization-v1)',
  implicit: 'implicit (fences in the dma-buf)',
  bridged: 'bridged (Mesa WSI: explicit → implicit)',
  naive: 'naive (ignores release: tears)',
};

const POLICY_HELP: Record<LatchPolicyName, string> = {
  'cpu-wait': 'cpu-wait — latch only updates whose fences signalled',
  'gpu-wait': 'gpu-wait — latch now, the composition waits on the GPU',
  none: 'none — latch without waiting (unsafe)',
};

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  Object.assign(e, props);
  e.append(...children);
  return e;
}

function labelled(text: string, control: HTMLElement): HTMLLabelElement {
  return el('label', {}, el('span', { className: 'label-text' }, text), control);
}

function options<T extends string | number>(values: readonly T[], describe: (v: T) => string = String): HTMLOptionElement[] {
  return values.map((v) => el('option', { value: String(v), textContent: describe(v) }));
}

function range(lo: number, hi: number): number[] {
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}

export class Controls {
  private readonly clientList: HTMLOListElement;
  private readonly policy: HTMLSelectElement;
  private readonly refresh: HTMLInputElement;
  private readonly slowMotion: HTMLInputElement;
  private readonly legacy: HTMLInputElement;
  private readonly message: HTMLElement;

  constructor(root: HTMLElement, intents: ControlIntents) {
    const mode = el('select', { name: 'mode' }, ...options(CLIENT_MODES, (m) => MODE_HELP[m]));
    const buffers = el('select', { name: 'buffers' }, ...options(range(BUFFERS_MIN, BUFFERS_MAX)));
    buffers.value = '3';
    const load = el('select', { name: 'load' }, ...options(range(0, LOAD_MAX), (n) => (n === 0 ? '0 (none)' : `${n} extra passes`)));
    const add = el('button', { type: 'submit', textContent: 'Add client' });
    const addForm = el(
      'form',
      { className: 'add-client', ariaLabel: 'add a client' },
      labelled('sync mode', mode),
      labelled('buffers', buffers),
      labelled('GPU load', load),
      add,
    );
    addForm.addEventListener('submit', (e) => {
      e.preventDefault();
      intents.addClient({ mode: mode.value as ClientMode, buffers: Number(buffers.value), load: Number(load.value) });
    });

    this.clientList = el('ol', { className: 'client-list', ariaLabel: 'clients in this page' });
    const removeAll = el('button', { type: 'button', textContent: 'Remove all clients' });
    removeAll.addEventListener('click', () => intents.removeAllClients());

    this.policy = el('select', { name: 'policy' }, ...options(LATCH_POLICIES, (p) => POLICY_HELP[p]));
    this.refresh = el('input', { name: 'refreshHz', type: 'number', min: '1', max: '1000', step: '1', required: true });
    this.slowMotion = el('input', { name: 'slowMotion', type: 'number', min: '1', max: '1000', step: '0.5', required: true });
    const apply = el('button', { type: 'submit', textContent: 'Apply' });
    const compForm = el(
      'form',
      { className: 'compositor', ariaLabel: 'compositor settings' },
      labelled('latch policy', this.policy),
      labelled('refresh (Hz)', this.refresh),
      labelled('slow motion (×)', this.slowMotion),
      apply,
    );
    // The policy applies at once; numbers on Enter / Apply (typing "120" must not send "1" and "12").
    this.policy.addEventListener('change', () => intents.setCompositor({ policy: this.policy.value as LatchPolicyName }));
    compForm.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!compForm.reportValidity()) return;
      intents.setCompositor({ refreshHz: Number(this.refresh.value), slowMotion: Number(this.slowMotion.value) });
    });

    this.legacy = el('input', { type: 'checkbox', name: 'legacy' });
    this.legacy.addEventListener('change', () => intents.setLegacyReplaceImport(this.legacy.checked));
    const legacyLabel = el(
      'label',
      { className: 'legacy' },
      this.legacy,
      el('span', {}, 'Legacy replace-import: the 2020 behaviour Linux rejected (importing a sync_file replaced the buffer\u2019s fences)'),
    );

    this.message = el('p', { className: 'control-message', role: 'status' });
    root.append(
      el('h2', { textContent: 'Clients' }),
      addForm,
      this.clientList,
      removeAll,
      el('h2', { textContent: 'Compositor' }),
      compForm,
      legacyLabel,
      this.message,
    );
    this.removeIntent = intents.removeClient;
  }

  private readonly removeIntent: (serial: number) => void;

  showClients(rows: readonly ClientRow[]): void {
    this.clientList.replaceChildren(
      ...rows.map((r) => {
        const swatch = el('span', { className: 'swatch' });
        swatch.style.background = `rgb(${r.colour.join(',')})`;
        const remove = el('button', { type: 'button', textContent: 'Remove', ariaLabel: `remove ${r.title}` });
        remove.addEventListener('click', () => this.removeIntent(r.serial));
        return el('li', {}, swatch, `${r.title} · ${r.spec.buffers} buffers · load ${r.spec.load} `, remove);
      }),
    );
  }

  showSettings(s: CompositorSettings): void {
    this.policy.value = s.policy;
    if (document.activeElement !== this.refresh) this.refresh.value = String(s.refreshHz);
    if (document.activeElement !== this.slowMotion) this.slowMotion.value = String(s.slowMotion);
  }

  showLegacy(on: boolean): void {
    this.legacy.checked = on;
  }

  /** A status line: what happened, or what went wrong and what to do. */
  say(text: string, kind: 'info' | 'error' = 'info'): void {
    this.message.textContent = text;
    this.message.className = `control-message ${kind}`;
  }
}
