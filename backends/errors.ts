/**
 * The errors a port's operations throw, the same in the simulator and on real servers, so that a
 * recipe handles both alike. Here, apart from the simulated endpoint, so that live ports need
 * nothing of the simulator's models to throw them.
 */

/** The request timed out: its outcome is unknown (the kernel's own timeout, re-exported for the live ports). */
export { TimeoutError } from '../sim/errors.ts';

/** The connection a request was on was reset before its reply came. */
export class ConnectionLost extends Error {
  override name = 'ConnectionLost';
}

/** The server answered the request with an error. */
export class RemoteError extends Error {
  override name = 'RemoteError';
}

/**
 * The server refused a write and did nothing: a replica's READONLY, or a primary's NOREPLICAS
 * when fewer replicas than min-replicas-to-write acked recently. Unlike a timeout, the outcome is known.
 */
export class WriteRefused extends Error {
  override name = 'WriteRefused';
}
