import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateAll, PROTOCOL_DIR, readSources } from '../../scripts/wayland-scanner';

describe('generated protocol code', () => {
  it('is what the scanner makes from the XML today (run npm run generate)', () => {
    const expected = generateAll(readSources());
    const dir = join(PROTOCOL_DIR, 'generated');
    const committed = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(committed.sort()).toEqual([...expected.keys()].sort());
    for (const [name, text] of expected) expect(readFileSync(join(dir, name), 'utf8'), name).toBe(text);
  });

  it('the scanner refuses a new_id of an unknown interface', () => {
    const xml = `<protocol name="p"><interface name="a" version="1"><request name="r"><arg name="id" type="new_id" interface="nope"/></request></interface></protocol>`;
    expect(() => generateAll([{ file: 'p', xml }])).toThrow(/unknown interface nope/);
  });

  it('the scanner refuses a since above the interface version', () => {
    const xml = `<protocol name="p"><interface name="a" version="1"><request name="r" since="2"/></interface></protocol>`;
    expect(() => generateAll([{ file: 'p', xml }])).toThrow(/since 2/);
  });

  it('the scanner accepts deprecated-since and notes it on the message', () => {
    const xml = `<protocol name="p"><interface name="a" version="4"><event name="e" since="2" deprecated-since="4"/></interface></protocol>`;
    expect(generateAll([{ file: 'p', xml }]).get('p.ts')).toContain('e (since v2) (deprecated since v4)');
  });

  it('the scanner refuses a deprecated-since not after since or above the interface version', () => {
    const early = `<protocol name="p"><interface name="a" version="4"><event name="e" since="2" deprecated-since="2"/></interface></protocol>`;
    const late = `<protocol name="p"><interface name="a" version="4"><event name="e" deprecated-since="5"/></interface></protocol>`;
    expect(() => generateAll([{ file: 'p', xml: early }])).toThrow(/deprecated-since 2/);
    expect(() => generateAll([{ file: 'p', xml: late }])).toThrow(/deprecated-since 5/);
  });

  it('linux-dmabuf-v1 marks format and modifier deprecated from version 4, as upstream', () => {
    const xml = readSources().find((s) => s.file === 'linux-dmabuf-v1')?.xml ?? '';
    expect(xml).toMatch(/<event name="format" deprecated-since="4">/);
    expect(xml).toMatch(/<event name="modifier" since="3" deprecated-since="4">/);
  });
});
