/**
 * The control page: the compositor's settings (GET/POST /control) and live
 * counters from the trace stream (/trace WebSocket). No WebGPU here yet:
 * the browser clients and display come later.
 */
import { decodeBatch } from '../../shared/trace/encode';
import type { TraceEvent } from '../../shared/trace/events';
import { CONTROL_RANGES, LATCH_POLICIES, LATCH_POLICY_SUMMARY, type ControlSettings, type ControlUpdate } from '../../shared/control';


const form = document.querySelector<HTMLFormElement>('#control')!;
const status = document.querySelector<HTMLSpanElement>('#status')!;
const counters = document.querySelector<HTMLTableSectionElement>('#counters')!;
const log = document.querySelector<HTMLDivElement>('#log')!;

/** The form's choices and ranges come from shared/control.ts, as the server's checks do. */
function prepareForm(): void {
  const select = form.elements.namedItem('policy') as HTMLSelectElement;
  select.replaceChildren(
    ...LATCH_POLICIES.map((p) => {
      const option = document.createElement('option');
      option.value = p;
      option.textContent = `${p} (${LATCH_POLICY_SUMMARY[p]})`;
      return option;
    }),
  );
  for (const [name, { min, max }] of Object.entries(CONTROL_RANGES)) {
    const input = form.elements.namedItem(name) as HTMLInputElement;
    input.min = String(min);
    input.max = String(max);
  }
}

function show(s: ControlSettings): void {
  (form.elements.namedItem('policy') as HTMLSelectElement).value = s.policy;
  (form.elements.namedItem('refreshHz') as HTMLInputElement).value = String(s.refreshHz);
  (form.elements.namedItem('slowMotion') as HTMLInputElement).value = String(s.slowMotion);
}

async function load(): Promise<void> {
  const res = await fetch('/control');
  show((await res.json()) as ControlSettings);
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  const data = new FormData(form);
  const body: ControlUpdate = { policy: String(data.get('policy')), refreshHz: Number(data.get('refreshHz')), slowMotion: Number(data.get('slowMotion')) };
  void fetch('/control', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (res) => {
    const json = (await res.json()) as ControlSettings & { error?: string };
    if (!res.ok) {
      status.textContent = json.error ?? `error ${res.status}`;
      status.className = 'error';
      return;
    }
    status.textContent = 'applied';
    status.className = '';
    show(json);
  });
});

const counts = new Map<string, number>();
function bump(name: string): void {
  counts.set(name, (counts.get(name) ?? 0) + 1);
}

function render(): void {
  counters.replaceChildren(
    ...[...counts.entries()].map(([name, n]) => {
      const tr = document.createElement('tr');
      const a = document.createElement('td');
      const b = document.createElement('td');
      a.textContent = name;
      b.textContent = String(n);
      tr.append(a, b);
      return tr;
    }),
  );
}

function note(text: string): void {
  log.textContent = `${text}\n${log.textContent ?? ''}`.slice(0, 20_000);
}

function onEvent(ev: TraceEvent): void {
  switch (ev.type) {
    case 'surface.presentation':
      bump(`frames ${ev.result}`);
      break;
    case 'output.missed':
      bump('missed vblanks');
      note(`missed vblank ${ev.seq}: ${ev.reason}`);
      break;
    case 'hazard':
      bump(`hazards (${ev.kind})`);
      note(`hazard: ${ev.explanation}`);
      break;
    case 'client.connect':
      bump('clients connected');
      break;
    case 'client.disconnect':
      bump('clients disconnected');
      break;
    default:
      break;
  }
}

function connect(): void {
  const url = new URL('/trace', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  // Live events only: start after the history the server keeps.
  url.searchParams.set('from', String(Number.MAX_SAFE_INTEGER));
  const ws = new WebSocket(url);
  ws.onmessage = (m) => {
    for (const ev of decodeBatch(String(m.data))) onEvent(ev);
    render();
  };
  ws.onclose = () => setTimeout(connect, 1000);
}

prepareForm();
void load();
connect();
