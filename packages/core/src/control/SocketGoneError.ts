import { DroverError } from '../errors.js';

/** The master of a group is alive (its pid file says so) but its control socket file is gone. */
export class SocketGoneError extends DroverError {
  readonly pid: number;

  constructor(baseTitle: string, pid: number, socket: string, cause?: unknown) {
    super(
      'ESOCKETGONE',
      `drover: the master of '${baseTitle}' (pid ${pid}) is alive but its control socket '${socket}' is gone, so it cannot be reached`,
      {
        hint: `'kill -TERM ${pid}' stops it gracefully (its workers finish first); starting the group again then creates a new socket`,
        cause,
      },
    );
    this.name = 'SocketGoneError';
    this.pid = pid;
  }
}
