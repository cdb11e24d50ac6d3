import { describe, expect, it } from 'vitest';
import { ObjectMap, SERVER_ID_START } from '../../shared/protocol/object-map';

describe('object map (wl_map)', () => {
  it('client ids start at 1 and grow densely', () => {
    const map = new ObjectMap<string>('client');
    expect([map.insertNew('a'), map.insertNew('b'), map.insertNew('c')]).toEqual([1, 2, 3]);
  });

  it('server ids start at 0xff000000', () => {
    const map = new ObjectMap<string>('server');
    expect(map.insertNew('a')).toBe(SERVER_ID_START);
    expect(map.insertNew('b')).toBe(SERVER_ID_START + 1);
  });

  it('a freed own id is reused before the range grows, most recently freed first', () => {
    const map = new ObjectMap<string>('client');
    for (let i = 0; i < 5; i++) map.insertNew(`o${i}`);
    map.remove(2);
    map.remove(4);
    expect(map.insertNew('x')).toBe(4);
    expect(map.insertNew('y')).toBe(2);
    expect(map.insertNew('z')).toBe(6);
  });

  it('removing an id twice does not hand it out twice', () => {
    const map = new ObjectMap<string>('client');
    map.insertNew('a');
    map.insertNew('b');
    map.remove(2);
    map.remove(2);
    expect(map.insertNew('c')).toBe(2);
    expect(map.insertNew('d')).toBe(3);
  });

  it('a peer id must be the next one or a free slot', () => {
    const map = new ObjectMap<string>('server');
    expect(map.reserveNew(1)).toBeNull();
    map.insertAt(1, 'display');
    expect(map.reserveNew(3)).toMatch(/skips ahead/);
    expect(map.reserveNew(2)).toBeNull();
    map.insertAt(2, 'registry');
    expect(map.reserveNew(2)).toMatch(/already in use/);
    map.remove(2);
    expect(map.reserveNew(2)).toBeNull();
  });

  it('a peer may not use ids from our own range, nor 0', () => {
    const map = new ObjectMap<string>('server');
    expect(map.reserveNew(SERVER_ID_START)).toMatch(/range/);
    expect(map.reserveNew(0)).toMatch(/range/);
  });

  it('entries lists client ids then server ids, in order', () => {
    const map = new ObjectMap<string>('server');
    map.reserveNew(1);
    map.insertAt(1, 'a');
    map.insertNew('s');
    map.reserveNew(2);
    map.insertAt(2, 'b');
    expect(map.entries()).toEqual([
      [1, 'a'],
      [2, 'b'],
      [SERVER_ID_START, 's'],
    ]);
  });
});
