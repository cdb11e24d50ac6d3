/**
 * wayland-scanner for handoff: turns shared/protocol/*.xml into TypeScript
 * under shared/protocol/generated/ (one file per XML plus index.ts).
 *
 * Per interface it writes the runtime descriptor (name, version, requests
 * and events with opcodes, since and argument specs) that the wire codec
 * reads, error and other enums as `as const` objects, and four types: the
 * server's handler interface (XxxRequests: one method per request, so a
 * missing handler fails to compile), the server's event senders, the
 * client's request senders and the client's event listener.
 *
 * Run: npx tsx scripts/wayland-scanner.ts (npm run generate). The freshness
 * test imports generateAll() and compares with the committed files.
 */
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// ---------------------------------------------------------------- XML parsing

interface XmlElement {
  readonly tag: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  text: string;
}

function decodeEntities(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#x[0-9a-fA-F]+|#[0-9]+);/g, (_m, e: string) => {
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'amp') return '&';
    if (e === 'quot') return '"';
    if (e === 'apos') return "'";
    return String.fromCodePoint(e.startsWith('#x') ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  });
}

/** A small XML parser: elements, attributes, text, comments, declarations. */
export function parseXml(source: string): XmlElement {
  const root: XmlElement = { tag: '#root', attrs: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  let i = 0;
  const fail = (msg: string): never => {
    const line = source.slice(0, i).split('\n').length;
    throw new Error(`XML line ${line}: ${msg}`);
  };
  while (i < source.length) {
    const top = stack[stack.length - 1] ?? fail('unbalanced');
    const lt = source.indexOf('<', i);
    if (lt === -1) {
      top.text += decodeEntities(source.slice(i));
      break;
    }
    top.text += decodeEntities(source.slice(i, lt));
    i = lt;
    if (source.startsWith('<!--', i)) {
      const end = source.indexOf('-->', i);
      if (end === -1) fail('unterminated comment');
      i = end + 3;
    } else if (source.startsWith('<?', i)) {
      const end = source.indexOf('?>', i);
      if (end === -1) fail('unterminated declaration');
      i = end + 2;
    } else if (source.startsWith('</', i)) {
      const end = source.indexOf('>', i);
      const tag = source.slice(i + 2, end).trim();
      if (top.tag !== tag) fail(`</${tag}> closes <${top.tag}>`);
      stack.pop();
      i = end + 1;
    } else {
      const m = /^<([A-Za-z_][\w.-]*)((?:\s+[\w.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/.exec(source.slice(i));
      if (m === null) fail('malformed tag');
      const [whole, tag = '', attrText = '', selfClose] = m ?? [];
      const attrs: Record<string, string> = {};
      for (const a of attrText.matchAll(/([\w.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
        attrs[a[1] ?? ''] = decodeEntities(a[2] ?? a[3] ?? '');
      }
      const el: XmlElement = { tag, attrs, children: [], text: '' };
      top.children.push(el);
      if (selfClose !== '/') stack.push(el);
      i += (whole ?? '').length;
    }
  }
  if (stack.length !== 1) fail(`<${stack[stack.length - 1]?.tag ?? '?'}> is never closed`);
  return root;
}

// ---------------------------------------------------------------- protocol model

const ARG_TYPES = ['int', 'uint', 'fixed', 'string', 'object', 'new_id', 'array', 'fd'] as const;
type ArgType = (typeof ARG_TYPES)[number];

interface ArgModel {
  name: string;
  type: ArgType;
  interface?: string;
  nullable: boolean;
  enum?: string;
  summary?: string;
}
interface MessageModel {
  name: string;
  since: number;
  /** deprecated-since="N": from version N on the message is no longer sent or used. */
  deprecatedSince?: number;
  destructor: boolean;
  summary?: string;
  args: ArgModel[];
}
interface EnumModel {
  name: string;
  bitfield: boolean;
  summary?: string;
  entries: { name: string; value: number; summary?: string }[];
}
interface InterfaceModel {
  name: string;
  version: number;
  summary?: string;
  requests: MessageModel[];
  events: MessageModel[];
  enums: EnumModel[];
}
export interface ProtocolModel {
  /** File base name, e.g. "linux-drm-syncobj-v1". */
  file: string;
  name: string;
  interfaces: InterfaceModel[];
}

function summaryOf(el: XmlElement): string | undefined {
  const s = el.attrs.summary ?? el.children.find((c) => c.tag === 'description')?.attrs.summary;
  return s === undefined ? undefined : s.replace(/\s+/g, ' ').trim();
}

function intAttr(el: XmlElement, name: string, fallback: number, where: string): number {
  const raw = el.attrs[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${where}: ${name}="${raw}" is not a non-negative integer`);
  return n;
}

export function parseProtocol(xml: string, file: string): ProtocolModel {
  const root = parseXml(xml);
  const protocol = root.children.find((c) => c.tag === 'protocol');
  if (protocol === undefined) throw new Error(`${file}: no <protocol>`);
  const interfaces = protocol.children
    .filter((c) => c.tag === 'interface')
    .map((iface): InterfaceModel => {
      const name = iface.attrs.name ?? '';
      const version = intAttr(iface, 'version', 0, name);
      if (name === '' || version < 1) throw new Error(`${file}: interface needs a name and a version >= 1`);
      const message = (el: XmlElement): MessageModel => {
        const where = `${name}.${el.attrs.name ?? '?'}`;
        const since = intAttr(el, 'since', 1, where);
        if (since > version) throw new Error(`${where}: since ${since} is above the interface version ${version}`);
        const deprecatedSince = el.attrs['deprecated-since'] === undefined ? undefined : intAttr(el, 'deprecated-since', 0, where);
        if (deprecatedSince !== undefined && (deprecatedSince <= since || deprecatedSince > version)) {
          throw new Error(`${where}: deprecated-since ${deprecatedSince} is not in ${since + 1}..${version}`);
        }
        const args = el.children
          .filter((c) => c.tag === 'arg')
          .map((a): ArgModel => {
            const type = a.attrs.type ?? '';
            if (!(ARG_TYPES as readonly string[]).includes(type)) throw new Error(`${where}: unknown arg type "${type}"`);
            return {
              name: a.attrs.name ?? '',
              type: type as ArgType,
              ...(a.attrs.interface !== undefined ? { interface: a.attrs.interface } : {}),
              nullable: a.attrs['allow-null'] === 'true',
              ...(a.attrs.enum !== undefined ? { enum: a.attrs.enum } : {}),
              ...(summaryOf(a) !== undefined ? { summary: summaryOf(a) } : {}),
            };
          });
        return {
          name: el.attrs.name ?? '',
          since,
          ...(deprecatedSince !== undefined ? { deprecatedSince } : {}),
          destructor: el.attrs.type === 'destructor',
          ...(summaryOf(el) !== undefined ? { summary: summaryOf(el) } : {}),
          args,
        };
      };
      return {
        name,
        version,
        ...(summaryOf(iface) !== undefined ? { summary: summaryOf(iface) } : {}),
        requests: iface.children.filter((c) => c.tag === 'request').map(message),
        events: iface.children.filter((c) => c.tag === 'event').map(message),
        enums: iface.children
          .filter((c) => c.tag === 'enum')
          .map((e) => ({
            name: e.attrs.name ?? '',
            bitfield: e.attrs.bitfield === 'true',
            ...(summaryOf(e) !== undefined ? { summary: summaryOf(e) } : {}),
            entries: e.children
              .filter((c) => c.tag === 'entry')
              .map((en) => {
                const value = Number(en.attrs.value);
                if (!Number.isInteger(value)) throw new Error(`${name}.${e.attrs.name ?? '?'}: bad value "${en.attrs.value ?? ''}"`);
                return { name: en.attrs.name ?? '', value, ...(summaryOf(en) !== undefined ? { summary: summaryOf(en) } : {}) };
              }),
          })),
      };
    });
  return { file, name: protocol.attrs.name ?? file, interfaces };
}

// ---------------------------------------------------------------- naming

const RESERVED = new Set(
  ('break case catch class const continue debugger default delete do else enum export extends false finally for ' +
    'function if import in instanceof new null return super switch this throw true try typeof var void while with ' +
    'yield let static implements interface package private protected public await arguments eval').split(' '),
);

const camel = (s: string): string => s.replace(/_+([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
const pascal = (s: string): string => {
  const c = camel(s);
  return c.charAt(0).toUpperCase() + c.slice(1);
};
/** A parameter name: camelCase, with reserved words escaped. */
const param = (s: string): string => {
  const c = camel(s);
  return RESERVED.has(c) ? `${c}_` : c;
};
const key = (s: string): string => (/^[A-Za-z_$][\w$]*$/.test(s) ? s : `'${s}'`);
const quote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const doc = (indent: string, text: string | undefined): string =>
  text === undefined || text === '' ? '' : `${indent}/** ${text.replace(/\*\//g, '* /')} */\n`;

// ---------------------------------------------------------------- code generation

const HEADER = (file: string): string =>
  `// Generated by scripts/wayland-scanner.ts from shared/protocol/${file}.xml. Do not edit: run \`npm run generate\`.\n`;

function descriptor(iface: InterfaceModel): string {
  const msgs = (list: MessageModel[]): string =>
    list
      .map((m, opcode) => {
        const args = m.args
          .map((a) => {
            const parts = [`name: ${quote(a.name)}`, `type: ${quote(a.type)}`];
            if (a.interface !== undefined) parts.push(`interface: ${quote(a.interface)}`);
            if (a.nullable) parts.push('nullable: true');
            if (a.enum !== undefined) parts.push(`enum: ${quote(a.enum)}`);
            return `{ ${parts.join(', ')} }`;
          })
          .join(', ');
        return (
          `    { name: ${quote(m.name)}, method: ${quote(camel(m.name))}, opcode: ${opcode}, since: ${m.since}, ` +
          `destructor: ${m.destructor}, args: [${args}] },\n`
        );
      })
      .join('');
  return (
    doc('', `${iface.name} v${iface.version}${iface.summary !== undefined ? `: ${iface.summary}` : ''}`) +
    `export const ${camel(iface.name)}Interface = {\n` +
    `  name: ${quote(iface.name)},\n  version: ${iface.version},\n` +
    `  requests: [${iface.requests.length === 0 ? '' : `\n${msgs(iface.requests)}  `}],\n` +
    `  events: [${iface.events.length === 0 ? '' : `\n${msgs(iface.events)}  `}],\n` +
    `} as const satisfies InterfaceSpec<${quote(iface.name)}>;\n`
  );
}

function enums(iface: InterfaceModel): string {
  return iface.enums
    .map((e) => {
      const name = `${pascal(iface.name)}${pascal(e.name)}`;
      const entries = e.entries.map((en) => `${doc('  ', en.summary)}  ${key(camel(en.name))}: ${en.value},\n`).join('');
      let out =
        doc('', `${iface.name}.${e.name}${e.bitfield ? ' (bitfield)' : ''}${e.summary !== undefined ? `: ${e.summary}` : ''}`) +
        `export const ${name} = {\n${entries}} as const;\n` +
        `export type ${name} = (typeof ${name})[keyof typeof ${name}];\n`;
      if (!e.bitfield) {
        const values = [...new Set(e.entries.map((en) => en.value))].join(', ');
        out +=
          `/** Whether a received number is one of ${iface.name}.${e.name}'s values (the peer can send anything). */\n` +
          `export function is${name}(value: number): value is ${name} {\n` +
          `  return ([${values}] as number[]).includes(value);\n}\n`;
      }
      return out;
    })
    .join('\n');
}

type Side = 'handler' | 'eventSender' | 'requestSender' | 'listener';

function argType(a: ArgModel, side: Side, known: Set<string>): string {
  const obj = side === 'handler' || side === 'eventSender' ? 'Resource' : 'Proxy';
  const ref = a.interface !== undefined && known.has(a.interface) ? `${obj}<${quote(a.interface)}>` : obj;
  switch (a.type) {
    case 'int':
    case 'uint':
    case 'fixed':
    case 'fd':
      return 'number';
    case 'string':
      return a.nullable ? 'string | null' : 'string';
    case 'array':
      return 'Uint8Array';
    case 'object':
      return a.nullable ? `${ref} | null` : ref;
    case 'new_id':
      if (side === 'handler') return a.interface === undefined ? 'UntypedNewId' : `NewId<${quote(a.interface)}>`;
      return ref; // eventSender: the server-created resource; listener: the new proxy
  }
}

function signatures(iface: InterfaceModel, side: Side, known: Set<string>): string {
  const P = pascal(iface.name);
  const list = side === 'handler' || side === 'requestSender' ? iface.requests : iface.events;
  return list
    .map((m) => {
      const params: string[] = side === 'handler' ? [`resource: ${P}Resource`] : [];
      let result = 'void';
      let generic = '';
      for (const a of m.args) {
        const note = [a.summary, a.enum !== undefined ? `enum ${a.enum}` : undefined].filter((x) => x !== undefined).join('; ');
        const c = note === '' ? '' : ` /* ${note.replace(/\*\//g, '* /')} */`;
        if (side === 'requestSender' && a.type === 'new_id') {
          if (a.interface === undefined) {
            generic = '<I extends InterfaceName>';
            params.push(`${param(a.name)}Interface: InterfaceSpec<I>`, `${param(a.name)}Version: number`);
            result = 'Proxy<I>';
          } else {
            result = known.has(a.interface) ? `Proxy<${quote(a.interface)}>` : 'Proxy';
          }
          continue;
        }
        params.push(`${param(a.name)}: ${argType(a, side, known)}${c}`);
      }
      const since = `${m.since > 1 ? ` (since v${m.since})` : ''}${m.deprecatedSince !== undefined ? ` (deprecated since v${m.deprecatedSince})` : ''}`;
      const destructor = m.destructor ? ' [destructor]' : '';
      return `${doc('  ', `${m.name}${since}${destructor}${m.summary !== undefined ? `: ${m.summary}` : ''}`)}  ${camel(m.name)}${generic}(${params.join(', ')}): ${result};\n`;
    })
    .join('');
}

export function generateProtocol(model: ProtocolModel, known: Set<string>): string {
  const group = `${pascal(model.file.replace(/-/g, '_'))}Interfaces`;
  let out = HEADER(model.file);
  out += `import type { InterfaceSpec } from '../spec';\n`;
  out += `import type { NewId, Resource, UntypedNewId } from '../server';\n`;
  out += `import type { Proxy } from '../client';\n`;
  out += `import type { InterfaceName } from './index';\n`;
  for (const iface of model.interfaces) {
    const P = pascal(iface.name);
    out += `\n// ---- ${iface.name}\n\n`;
    out += descriptor(iface);
    const e = enums(iface);
    if (e !== '') out += `\n${e}`;
    out += `\nexport type ${P}Resource = Resource<${quote(iface.name)}>;\n`;
    out += `export type ${P}Proxy = Proxy<${quote(iface.name)}>;\n`;
    out += `\n/** Server: the implementation of ${iface.name}; every request needs a handler. */\n`;
    out += `export interface ${P}Requests {\n${signatures(iface, 'handler', known)}}\n`;
    out += `\n/** Server: resource.send.<event>(...) for ${iface.name}. */\n`;
    out += `export interface ${P}EventSender {\n${signatures(iface, 'eventSender', known)}}\n`;
    out += `\n/** Client: proxy.send.<request>(...) for ${iface.name}. */\n`;
    out += `export interface ${P}RequestSender {\n${signatures(iface, 'requestSender', known)}}\n`;
    out += `\n/** Client: proxy.setListener({...}) for ${iface.name}. */\n`;
    out += `export interface ${P}Listener {\n${signatures(iface, 'listener', known)}}\n`;
  }
  out += `\n/** The ${model.file} interfaces, for InterfaceMap in ./index. */\n`;
  out += `export interface ${group} {\n`;
  for (const iface of model.interfaces) {
    const P = pascal(iface.name);
    out +=
      `  ${iface.name}: { requests: ${P}Requests; events: ${P}EventSender; ` +
      `requestSender: ${P}RequestSender; listener: ${P}Listener };\n`;
  }
  out += `}\n`;
  return out;
}

export function generateIndex(models: ProtocolModel[]): string {
  let out = `// Generated by scripts/wayland-scanner.ts. Do not edit: run \`npm run generate\`.\n`;
  out += `import type { InterfaceSpec } from '../spec';\n`;
  const groups: string[] = [];
  for (const m of models) {
    const group = `${pascal(m.file.replace(/-/g, '_'))}Interfaces`;
    groups.push(group);
    const names = m.interfaces.map((i) => `${camel(i.name)}Interface`).join(', ');
    out += `import { type ${group}, ${names} } from './${m.file}';\n`;
  }
  out += `\n/** Every interface we know, by XML name: the types the runtime is generic over. */\n`;
  out += `export interface InterfaceMap extends ${groups.join(', ')} {}\n`;
  out += `export type InterfaceName = keyof InterfaceMap;\n\n`;
  out += `/** Every interface descriptor, by XML name. */\n`;
  out += `export const interfaces = {\n`;
  for (const m of models) for (const i of m.interfaces) out += `  ${i.name}: ${camel(i.name)}Interface,\n`;
  out += `} as const satisfies { readonly [K in InterfaceName]: InterfaceSpec<K> };\n\n`;
  out += `const byName: ReadonlyMap<string, InterfaceSpec> = new Map(Object.entries(interfaces));\n\n`;
  out += `/** The descriptor for an interface name from the wire, if we know it. */\n`;
  out += `export function interfaceByName(name: string): InterfaceSpec | undefined {\n  return byName.get(name);\n}\n\n`;
  for (const m of models) out += `export * from './${m.file}';\n`;
  return out;
}

/** Checks cross-protocol references and returns the set of known interfaces. */
function checkModels(models: ProtocolModel[]): Set<string> {
  const known = new Set<string>();
  for (const m of models)
    for (const i of m.interfaces) {
      if (known.has(i.name)) throw new Error(`${m.file}: interface ${i.name} defined twice`);
      known.add(i.name);
    }
  for (const m of models)
    for (const i of m.interfaces)
      for (const [kind, list] of [['request', i.requests], ['event', i.events]] as const)
        for (const msg of list) {
          const newIds = msg.args.filter((a) => a.type === 'new_id');
          if (kind === 'request' && newIds.length > 1) throw new Error(`${i.name}.${msg.name}: more than one new_id`);
          for (const a of newIds) {
            if (a.interface === undefined && kind === 'event') throw new Error(`${i.name}.${msg.name}: event new_id needs an interface`);
            if (a.interface !== undefined && !known.has(a.interface))
              throw new Error(`${i.name}.${msg.name}: new_id of unknown interface ${a.interface}`);
          }
        }
  return known;
}

/** Generates every output file from XML sources: { 'wayland.ts': ..., 'index.ts': ... }. */
export function generateAll(sources: { file: string; xml: string }[]): Map<string, string> {
  const models = [...sources].sort((a, b) => a.file.localeCompare(b.file)).map((s) => parseProtocol(s.xml, s.file));
  const known = checkModels(models);
  const out = new Map<string, string>();
  for (const m of models) out.set(`${m.file}.ts`, generateProtocol(m, known));
  out.set('index.ts', generateIndex(models));
  return out;
}

export const PROTOCOL_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../shared/protocol');

export function readSources(dir = PROTOCOL_DIR): { file: string; xml: string }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.xml'))
    .map((f) => ({ file: basename(f, '.xml'), xml: readFileSync(join(dir, f), 'utf8') }));
}

function main(): void {
  const outDir = join(PROTOCOL_DIR, 'generated');
  mkdirSync(outDir, { recursive: true });
  const files = generateAll(readSources());
  for (const [name, text] of files) writeFileSync(join(outDir, name), text);
  process.stdout.write(`wayland-scanner: wrote ${files.size} files to ${outDir}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
