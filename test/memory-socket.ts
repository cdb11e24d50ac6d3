/**
 * An in-memory socket pair for tests (moved out of shared/protocol: it is
 * test code). Frames wait in the receiver's inbox until deliver(), so a
 * test controls interleaving exactly.
 */
import type { FrameSocket } from '../shared/protocol/connection';

/** One end of an in-memory socket pair. */
export interface MemorySocket extends FrameSocket {
  /** Frames sent by the peer and not yet delivered. */
  readonly inbox: Uint8Array[];
  /** Where deliver() hands frames; set it to the connection's onFrame. */
  onFrame: (frame: Uint8Array) => void;
  /** Called once, by deliver(), after the last frame of a closed peer. */
  onClose: () => void;
  /** Either end has closed. */
  readonly closed: boolean;
  /** Hands queued frames to onFrame in order, then the close if pending; returns how many frames. */
  deliver(): number;
}

interface MemorySocketState extends MemorySocket {
  peer: MemorySocketState | null;
  isClosed: boolean;
  eofPending: boolean;
}

/**
 * Two connected in-memory sockets. Frames wait in the receiver's inbox
 * until deliver() is called, so tests control interleaving exactly; a
 * close reaches the peer after the frames sent before it, as on a stream.
 */
export function createSocketPair(): [MemorySocket, MemorySocket] {
  const make = (): MemorySocketState => {
    const s: MemorySocketState = {
      peer: null,
      isClosed: false,
      eofPending: false,
      inbox: [],
      onFrame: () => {},
      onClose: () => {},
      get closed(): boolean {
        return s.isClosed;
      },
      send(frame: Uint8Array): void {
        if (s.isClosed || s.peer === null) return;
        s.peer.inbox.push(frame.slice());
      },
      close(): void {
        if (s.isClosed) return;
        s.isClosed = true;
        const peer = s.peer;
        if (peer !== null && !peer.isClosed) {
          peer.isClosed = true;
          peer.eofPending = true;
        }
      },
      deliver(): number {
        let n = 0;
        for (let f = s.inbox.shift(); f !== undefined; f = s.inbox.shift()) {
          s.onFrame(f);
          n++;
        }
        if (s.eofPending) {
          s.eofPending = false;
          s.onClose();
        }
        return n;
      },
    };
    return s;
  };
  const a = make();
  const b = make();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
