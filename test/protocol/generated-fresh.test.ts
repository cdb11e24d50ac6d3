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
});
