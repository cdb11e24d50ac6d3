/**
 * Object id map, after libwayland's wl_map (wayland-util.c).
 *
 * Clients allocate ids 1..0xfeffffff, servers 0xff000000..0xffffffff. Each
 * side allocates its own ids densely: a freed id goes on a free list and is
 * handed out again (most recently freed first, as wl_map does) before the
 * range grows. Ids from the peer are accepted only densely too: a new id
 * must be a free slot below the high-water mark or exactly the next one
 * (wl_map_reserve_new), so a peer cannot make us allocate a sparse table.
 */

export const CLIENT_ID_START = 1;
export const CLIENT_ID_MAX = 0xfeffffff;
export const SERVER_ID_START = 0xff000000;
export const SERVER_ID_MAX = 0xffffffff;
/** wl_map's WL_MAP_MAX_OBJECTS: entries per side. */
export const MAX_OBJECTS = 0x00f00000;

/** Which side of the connection owns the map (and so allocates which range). */
export type MapSide = 'client' | 'server';

export function isServerId(id: number): boolean {
  return id >= SERVER_ID_START;
}

interface Slot<T> {
  data: T | null;
  /** On this side's free list. */
  free: boolean;
  /** Next free index + 1 while on the free list (0 ends the list). */
  nextFree: number;
}

export class ObjectMap<T> {
  readonly side: MapSide;
  private readonly clientSlots: Slot<T>[] = [];
  private readonly serverSlots: Slot<T>[] = [];
  /** Index + 1 of the first free own slot, 0 when the list is empty. */
  private freeList = 0;

  constructor(side: MapSide) {
    this.side = side;
    // Id 0 is never an object: wl_map reserves it on both sides.
    this.clientSlots.push({ data: null, free: false, nextFree: 0 });
  }

  private locate(id: number): { slots: Slot<T>[]; index: number; own: boolean } {
    if (id >= SERVER_ID_START) return { slots: this.serverSlots, index: id - SERVER_ID_START, own: this.side === 'server' };
    return { slots: this.clientSlots, index: id, own: this.side === 'client' };
  }

  /**
   * Allocates an id in this side's range (wl_map_insert_new). Null data
   * reserves the id for an insertAt that follows. Throws when full.
   */
  insertNew(data: T | null): number {
    const own = this.side === 'client' ? this.clientSlots : this.serverSlots;
    const base = this.side === 'client' ? 0 : SERVER_ID_START;
    let index: number;
    if (this.freeList !== 0) {
      index = this.freeList - 1;
      const slot = own[index];
      if (slot === undefined) throw new Error(`object map free list points past the table (${index})`);
      this.freeList = slot.nextFree;
      slot.free = false;
      slot.nextFree = 0;
      slot.data = data;
    } else {
      if (own.length >= MAX_OBJECTS) throw new RangeError('object map is full');
      index = own.length;
      own.push({ data, free: false, nextFree: 0 });
    }
    return base + index;
  }

  /**
   * Accepts a new id chosen by the peer (wl_map_reserve_new): it must be in
   * the peer's range and either a free slot or exactly the next one.
   * Returns the reason it is refused, or null when reserved.
   */
  reserveNew(id: number): string | null {
    const { slots, index, own } = this.locate(id);
    if (own || id === 0) return `id ${id} is not in the peer's id range`;
    if (index > slots.length) return `id ${id} skips ahead of the next free id ${this.nextPeerId()}`;
    if (index === slots.length) {
      if (slots.length >= MAX_OBJECTS) return 'too many objects';
      slots.push({ data: null, free: false, nextFree: 0 });
      return null;
    }
    const slot = slots[index];
    if (slot !== undefined && slot.data !== null) return `id ${id} is already in use`;
    return null;
  }

  /** The lowest id the peer may use for a brand-new slot. */
  nextPeerId(): number {
    return this.side === 'server' ? this.clientSlots.length : SERVER_ID_START + this.serverSlots.length;
  }

  /** Stores data at an id that exists or is the next one (wl_map_insert_at). */
  insertAt(id: number, data: T): void {
    const { slots, index } = this.locate(id);
    if (index > slots.length) throw new RangeError(`insertAt(${id}) skips ahead of the table`);
    if (index === slots.length) slots.push({ data, free: false, nextFree: 0 });
    else {
      const slot = slots[index];
      if (slot === undefined) return;
      if (slot.free) throw new Error(`insertAt(${id}) on an id that is on the free list`);
      slot.data = data;
    }
  }

  lookup(id: number): T | undefined {
    const { slots, index } = this.locate(id);
    return slots[index]?.data ?? undefined;
  }

  /**
   * Frees an id. An own id goes on the free list for reuse; a peer id just
   * becomes an empty slot the peer may fill again (as the server does with
   * wl_map_insert_at(map, 0, id, NULL) for client ids).
   */
  remove(id: number): void {
    const { slots, index, own } = this.locate(id);
    const slot = slots[index];
    if (slot === undefined || id === 0) return;
    slot.data = null;
    if (own && !slot.free) {
      slot.free = true;
      slot.nextFree = this.freeList;
      this.freeList = index + 1;
    }
  }

  /** Live entries, client range first, each in id order (wl_map_for_each). */
  entries(): [number, T][] {
    const out: [number, T][] = [];
    this.clientSlots.forEach((slot, index) => {
      if (slot.data !== null) out.push([index, slot.data]);
    });
    this.serverSlots.forEach((slot, index) => {
      if (slot.data !== null) out.push([SERVER_ID_START + index, slot.data]);
    });
    return out;
  }
}
