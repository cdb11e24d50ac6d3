/**
 * A SocketFactory that counts the WebSocket frames a client sends and
 * receives, and their sizes, around the ordinary Node socket. The counts
 * are what the bare-ws replay sends; nothing here touches the server.
 */
import { nodeSocket, type SocketFactory } from './deps';

export interface FrameCounts {
  framesOut: number;
  bytesOut: number;
  framesIn: number;
  bytesIn: number;
}

/** Frame sizes in order, up to a cap (one client's pattern, for the replay). */
export interface SizeRecorder {
  out: number[];
  in: number[];
  on: boolean;
}

export const RECORD_CAP = 8192;

export function countingSocket(counts: FrameCounts, recorder?: SizeRecorder): SocketFactory {
  const inner = nodeSocket();
  return (url, handlers) => {
    const sock = inner(url, {
      ...handlers,
      frame: (bytes) => {
        counts.framesIn++;
        counts.bytesIn += bytes.byteLength;
        if (recorder?.on && recorder.in.length < RECORD_CAP) recorder.in.push(bytes.byteLength);
        handlers.frame(bytes);
      },
    });
    return {
      send: (frame) => {
        counts.framesOut++;
        counts.bytesOut += frame.byteLength;
        if (recorder?.on && recorder.out.length < RECORD_CAP) recorder.out.push(frame.byteLength);
        sock.send(frame);
      },
      close: (code, reason) => sock.close(code, reason),
    };
  };
}
