/**
 * The simulated client-server protocol: one request type per operation, one reply shape, and the
 * two things a server pushes unasked. Shared by the server model and the simulated client.
 */
import type { CreateMode, Created, ErrorCode, Stat } from '../port.ts';

/** Every operation, with what its request carries and what a successful reply holds. */
export interface Ops {
  /** Open a session (session null) or resume one on this server. */
  connect: { body: { session: number | null; timeoutMs: number }; value: { session: number } };
  ping: { body: { session: number }; value: null };
  create: { body: { session: number; path: string; mode: CreateMode }; value: Created };
  delete: { body: { session: number; path: string }; value: null };
  children: { body: { session: number; path: string }; value: string[] };
  /** With `watch`, a node that exists is watched for its deletion. */
  exists: { body: { session: number; path: string; watch: boolean }; value: Stat | null };
  close: { body: { session: number }; value: null };
}

export type Op = keyof Ops;

export type Reply =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

/** watch: a watched node was deleted. expired: the session this connection serves has ended. */
export type Push =
  | { readonly kind: 'watch'; readonly path: string }
  | { readonly kind: 'expired'; readonly session: number };

export function ok(value: unknown): Reply {
  return { ok: true, value };
}

export function failure(code: ErrorCode, message: string): Reply {
  return { ok: false, code, message };
}
