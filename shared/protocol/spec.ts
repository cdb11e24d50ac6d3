/**
 * Interface descriptors: the runtime shape of a protocol XML, as the
 * scanner writes it into shared/protocol/generated/. The wire codec and the
 * connections read only these; nothing here knows about particular
 * interfaces. Mirrors libwayland's struct wl_interface / wl_message, with
 * the signature string spelled out as typed argument specs.
 */

/** Argument types of the Wayland XML (`type="..."`). */
export type ArgType = 'int' | 'uint' | 'fixed' | 'string' | 'object' | 'new_id' | 'array' | 'fd';

export interface ArgSpec {
  /** Name as in the XML (snake_case). */
  readonly name: string;
  readonly type: ArgType;
  /**
   * For object and new_id: the interface named by the XML. A new_id without
   * one (wl_registry.bind) is sent as string interface + uint version + id.
   */
  readonly interface?: string;
  /** allow-null="true": object id 0 or string length 0 means null. */
  readonly nullable?: boolean;
  /** enum="..." as written in the XML, for documentation and tracing. */
  readonly enum?: string;
}

export interface MessageSpec {
  /** Name as in the XML (snake_case). */
  readonly name: string;
  /** The camelCase method name used by handlers, senders and listeners. */
  readonly method: string;
  /** Index among the interface's requests (or events) in XML order. */
  readonly opcode: number;
  /** First interface version that has this message. */
  readonly since: number;
  /** type="destructor": the object is gone after this message. */
  readonly destructor: boolean;
  readonly args: readonly ArgSpec[];
}

export interface InterfaceSpec<N extends string = string> {
  readonly name: N;
  readonly version: number;
  readonly requests: readonly MessageSpec[];
  readonly events: readonly MessageSpec[];
}
