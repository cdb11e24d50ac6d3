/**
 * SCM_RIGHTS between a client process and the compositor's: the fd hooks
 * of the client's Wayland connection. An fd in a request is installed into
 * the compositor's table before dispatch; an fd in an event is installed
 * into the client's table when queued (the compositor keeps its own, as
 * libwayland dups at marshal time). fd numbers never cross as such.
 */
import type { Process } from '../shared/kernel/process';
import type { FdHooks } from '../shared/protocol/connection';

export function scmRightsHooks(compositor: Process, client: Process): FdHooks {
  return {
    receive: (fd) => compositor.receiveFd(client, fd),
    send: (fd) => client.receiveFd(compositor, fd),
    close: (fd) => void compositor.close(fd),
  };
}
