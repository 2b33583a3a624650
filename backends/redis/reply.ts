/**
 * Replies of the simulated Redis's general command interface (the one lock libraries use through
 * ioredis), with RESP's distinctions kept: a status ("OK") apart from a bulk string, so that a Lua
 * script sees {ok="OK"} where Redis gives it one.
 */

/** A status reply: +OK, +PONG. A client sees its text. */
export class Status {
  constructor(readonly text: string) {}
}

/** An error reply, such as "ERR syntax error" or "NOSCRIPT No matching script. Please use EVAL.". */
export class CommandError extends Error {
  override name = 'CommandError';
}

export type Reply = string | number | null | Status | Reply[];

/** What the client receives: statuses as their text. */
export type WireReply = string | number | null | WireReply[];

export function toWire(reply: Reply): WireReply {
  if (reply instanceof Status) return reply.text;
  if (Array.isArray(reply)) return reply.map(toWire);
  return reply;
}
