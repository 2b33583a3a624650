/**
 * Replies of the simulated Redis's general command interface (the one lock libraries use through
 * ioredis), with RESP's distinctions kept: a status ("OK") apart from a bulk string, so that a Lua
 * script sees {ok="OK"} where Redis gives it one; an error inside an array (a script can return
 * one) apart from a string, as ioredis hands it over as a ReplyError in its place.
 */

/** A status reply: +OK, +PONG. A client sees its text. */
export class Status {
  constructor(readonly text: string) {}
}

/** An error reply, such as "ERR syntax error" or "NOSCRIPT No matching script. Please use EVAL.". */
export class CommandError extends Error {
  override name = 'CommandError';
}

/**
 * An integer reply is a number, or a bigint beyond 2^53: RESP carries its decimal digits, and a
 * client reads them its own way (ioredis into a double, digit by digit).
 */
export type Reply = string | number | bigint | null | Status | (Reply | CommandError)[];

/** What the client receives: statuses as their text. */
export type WireReply = string | number | bigint | null | (WireReply | CommandError)[];

/** `n` as an integer reply: a number while that is exact. */
export function integerReply(n: bigint): number | bigint {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

export function toWire(reply: Reply): WireReply {
  if (reply instanceof Status) return reply.text;
  if (Array.isArray(reply)) return reply.map((item) => (item instanceof CommandError ? item : toWire(item)));
  return reply;
}
