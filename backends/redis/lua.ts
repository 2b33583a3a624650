/**
 * Lua scripts on the simulated Redis (EVAL, EVALSHA), as lock libraries send them.
 *
 * The interpreter is fengari (Lua 5.3 in JavaScript; Redis embeds Lua 5.1: the scripts lock
 * libraries send use nothing where the two differ, and numbers passed to redis.call are turned
 * into strings as Redis does, "3" and not "3.0"). One interpreter serves every simulated server
 * of the process: a script keeps no state between calls (Redis forbids globals), and the server
 * it runs on is the `call` handler of that one execution. Compiled scripts are cached by their
 * SHA1, as Redis does; which scripts a server *knows* (for EVALSHA's NOSCRIPT) is the server's own.
 *
 * What the script sees, as in Redis 7.0: KEYS and ARGV; redis.call (a command error raises a Lua
 * error), redis.pcall (returns it as a table), redis.error_reply, redis.status_reply; the base,
 * table, string and math libraries, with math.random reseeded before each script (Redis makes
 * scripts deterministic the same way); reading a global that does not exist, or creating one, is
 * an error (overwriting an existing one is not, where Redis 7.0 refuses that too). Conversions
 * follow Redis's: nil replies are false, status replies {ok=...}, errors {err=...}; a number
 * returned is truncated to an integer, true is 1, false and nil are a nil reply, a table is an
 * array up to its first nil. A script stopped by an error is reported as Redis reports it: the
 * error, then " script: <sha1>, on @user_script:<line>.".
 *
 * Where Lua 5.3 shows through: fengari's integers are 32 bits, so integer arithmetic in a script
 * wraps past 2^31 (Lua 5.1 computes in doubles); replies beyond that reach the script as floats.
 * Lua's own runtime error messages are in 5.3's words (compile errors are put in 5.1's).
 */
import { createRequire } from 'node:module';
import { CommandError, integerReply, Status, type Reply } from './reply.ts';

/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument -- fengari ships no types */
const fengari: any = createRequire(import.meta.url)('fengari');
const { lua, lauxlib, lualib, to_luastring, to_jsstring } = fengari;

type State = unknown;
type Handler = (args: string[]) => Reply;

/** Lua's strings are byte arrays: the names used on every call are encoded once. */
const NAME = {
  KEYS: to_luastring('KEYS'),
  ARGV: to_luastring('ARGV'),
  math: to_luastring('math'),
  randomseed: to_luastring('randomseed'),
  ok: to_luastring('ok'),
  err: to_luastring('err'),
  where: to_luastring('Sl'),
};

const WRONG_ARGUMENTS = 'ERR wrong number or type of arguments';
const LLONG_MIN = -(2n ** 63n);
/** The widest integer fengari holds as one. */
const LUA_INT_MAX = 2 ** 31 - 1;

/**
 * Values go into Lua as byte arrays too; lock keys, TTLs and lock values repeat from call to call,
 * so recent encodings are kept (at most STRING_CACHE of them; the cache starts over when full).
 */
const STRING_CACHE = 10_000;
const encoded = new Map<string, Uint8Array>();
function luaString(text: string): Uint8Array {
  let bytes = encoded.get(text);
  if (bytes === undefined) {
    if (encoded.size >= STRING_CACHE) encoded.clear();
    bytes = to_luastring(text) as Uint8Array;
    encoded.set(text, bytes);
  }
  return bytes;
}

export class LuaEngine {
  private readonly L: State;
  /** The server the running script belongs to: its command executor. */
  private handler: Handler | null = null;
  /** Compiled scripts, by SHA1: their reference in the registry (an integer key, nothing to hash). */
  private readonly compiled = new Map<string, number>();
  /** Scripts that mention math.random, reseeded before each run. */
  private readonly random = new Set<string>();
  /** Where the running script failed (its message handler's finding), for the error reply. */
  private failedAt: { source: string; line: number } | null = null;

  constructor() {
    const L = lauxlib.luaL_newstate();
    this.L = L;
    for (const [name, open] of [
      ['_G', lualib.luaopen_base],
      ['table', lualib.luaopen_table],
      ['string', lualib.luaopen_string],
      ['math', lualib.luaopen_math],
    ] as const) {
      lauxlib.luaL_requiref(L, to_luastring(name), open, 1);
      lua.lua_pop(L, 1);
    }
    // Functions Redis leaves out of its scripting environment.
    for (const name of ['dofile', 'loadfile', 'print']) {
      lua.lua_pushnil(L);
      lua.lua_setglobal(L, to_luastring(name));
    }
    lua.lua_newtable(L);
    this.setFunction('call', (state: State) => this.call(state, true));
    this.setFunction('pcall', (state: State) => this.call(state, false));
    this.setFunction('error_reply', (state: State) => replyTable(state, 'err'));
    this.setFunction('status_reply', (state: State) => replyTable(state, 'ok'));
    this.setFunction('log', () => 0);
    lua.lua_setglobal(L, to_luastring('redis'));
    protectGlobals(L);
  }

  /** Compile `source` (once per SHA); a syntax error is Redis's "ERR Error compiling script". */
  compile(sha: string, source: string): void {
    if (this.compiled.has(sha)) return;
    const L = this.L;
    const status = lauxlib.luaL_loadbuffer(L, to_luastring(source), null, to_luastring('@user_script'));
    if (status !== lua.LUA_OK) {
      const message = to_jsstring(lua.lua_tostring(L, -1));
      lua.lua_pop(L, 1);
      throw new CommandError(`ERR Error compiling script (new function): ${asLua51(message)}`);
    }
    this.compiled.set(sha, lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX) as number);
    if (source.includes('random')) this.random.add(sha);
  }

  /** Run the compiled script `sha` with KEYS and ARGV, its redis.call going to `handler`. */
  run(sha: string, keys: readonly string[], args: readonly string[], handler: Handler): Reply {
    const L = this.L;
    const ref = this.compiled.get(sha);
    if (ref === undefined) throw new CommandError(`ERR script ${sha} was never compiled`);
    setArray(L, NAME.KEYS, keys);
    setArray(L, NAME.ARGV, args);
    if (this.random.has(sha)) {
      lua.lua_getglobal(L, NAME.math);
      lua.lua_getfield(L, -1, NAME.randomseed);
      lua.lua_pushinteger(L, 0);
      lua.lua_call(L, 1, 0);
      lua.lua_pop(L, 1);
    }
    const base: number = lua.lua_gettop(L);
    lua.lua_pushjsfunction(L, this.onError);
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, ref);
    const previous = this.handler;
    this.handler = handler;
    this.failedAt = null;
    try {
      if (lua.lua_pcall(L, 0, 1, base + 1) !== lua.LUA_OK) throw errorOf(L, sha, this.failedAt);
      const reply = toReply(L, -1);
      if (reply instanceof CommandError) throw reply;
      return reply;
    } finally {
      lua.lua_settop(L, base);
      this.handler = previous;
    }
  }

  /**
   * The message handler of a script's run, doing what Redis 7.0's does: note where the error was
   * raised in the script (past a function of the engine's, such as redis.call or error, to the
   * script line that called it). The error itself is left as it is.
   */
  private readonly onError = (L: State): number => {
    const ar = new lua.lua_Debug();
    let found = lua.lua_getstack(L, 1, ar) === 1 && lua.lua_getinfo(L, NAME.where, ar) !== 0;
    if (found && isNative(ar)) found = lua.lua_getstack(L, 2, ar) === 1 && lua.lua_getinfo(L, NAME.where, ar) !== 0;
    this.failedAt = found ? { source: to_jsstring(ar.source), line: ar.currentline } : null;
    return 1;
  };

  private setFunction(name: string, fn: (state: State) => number): void {
    lua.lua_pushjsfunction(this.L, fn);
    lua.lua_setfield(this.L, -2, to_luastring(name));
  }

  /**
   * redis.call / redis.pcall: the command, on the server running the script. A failure, the
   * command's or the call's own, is an {err=...} table: raised by redis.call, returned by redis.pcall.
   */
  private call(L: State, raise: boolean): number {
    const n = lua.lua_gettop(L);
    if (n === 0) return failed(L, raise, 'ERR Please specify at least one argument for this redis lib call');
    const args: string[] = [];
    for (let i = 1; i <= n; i++) {
      const type = lua.lua_type(L, i);
      if (type === lua.LUA_TNUMBER) args.push(formatG17(lua.lua_tonumber(L, i)));
      else if (type === lua.LUA_TSTRING) args.push(to_jsstring(lua.lua_tostring(L, i)));
      else return failed(L, raise, 'ERR Lua redis lib command arguments must be strings or integers');
    }
    let reply: Reply;
    try {
      if (this.handler === null) throw new CommandError('ERR redis.call outside a script');
      reply = this.handler(args);
    } catch (error) {
      if (!(error instanceof CommandError)) throw error;
      return failed(L, raise, error.message);
    }
    pushReply(L, reply);
    return 1;
  }
}

/** A failure of redis.call (raised) or redis.pcall (returned): an {err=...} table. */
function failed(L: State, raise: boolean, message: string): number {
  pushReply(L, new CommandError(message));
  return raise ? lua.lua_error(L) : 1;
}

/**
 * A number as a command argument, as Redis 7.0 writes it: C's "%.17g" (3 as "3", 0.1 as
 * "0.10000000000000001", 1e20 as "1e+20"): 17 significant digits, trailing zeros dropped, in
 * exponent form below 1e-4 and from 1e17.
 */
export function formatG17(n: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'nan' : n > 0 ? 'inf' : '-inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [mantissa = '', exponentText = '0'] = n.toExponential(16).split('e');
  const exponent = Number(exponentText);
  const trim = (digits: string) => (digits.includes('.') ? digits.replace(/\.?0+$/, '') : digits);
  if (exponent < -4 || exponent >= 17) {
    const sign = exponent < 0 ? '-' : '+';
    return `${trim(mantissa)}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return trim(n.toFixed(16 - exponent));
}

/** Set KEYS or ARGV, past the guard on the globals (protectGlobals). */
function setArray(L: State, name: Uint8Array, values: readonly string[]): void {
  lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS);
  lua.lua_pushstring(L, name);
  lua.lua_createtable(L, values.length, 0);
  for (let i = 0; i < values.length; i++) {
    lua.lua_pushstring(L, luaString(values[i] ?? ''));
    lua.lua_rawseti(L, -2, i + 1);
  }
  lua.lua_rawset(L, -3);
  lua.lua_pop(L, 1);
}

/**
 * Redis 7.0's guard on the globals: a script that reads a global nobody set, or sets a new one, is
 * stopped (scripts share one interpreter, so nothing may outlive a call). The engine's own
 * functions read a missing global as nil, as Redis lets its C code.
 */
function protectGlobals(L: State): void {
  lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS);
  lua.lua_newtable(L);
  lua.lua_pushjsfunction(L, (state: State) => {
    const ar = new lua.lua_Debug();
    if (lua.lua_getstack(state, 1, ar) !== 1 || lua.lua_getinfo(state, NAME.where, ar) === 0 || isNative(ar)) {
      lua.lua_pushnil(state);
      return 1;
    }
    const name = to_jsstring(lauxlib.luaL_tolstring(state, 2));
    return lauxlib.luaL_error(state, to_luastring(`Script attempted to access nonexistent global variable '${name}'`));
  });
  lua.lua_setfield(L, -2, to_luastring('__index'));
  lua.lua_pushjsfunction(L, (state: State) =>
    lauxlib.luaL_error(state, to_luastring('Attempt to modify a readonly table')),
  );
  lua.lua_setfield(L, -2, to_luastring('__newindex'));
  lua.lua_setmetatable(L, -2);
  lua.lua_pop(L, 1);
}

/** A function of the engine's own, not of the script (fengari calls them "J", C Lua "C"). */
function isNative(ar: { what: Uint8Array }): boolean {
  const what = to_jsstring(ar.what);
  return what === 'J' || what === 'C';
}

/**
 * redis.error_reply and redis.status_reply. An error's text is "CODE message", or a message alone
 * (no space), which gets the code ERR; a leading '-' and line breaks at either end are dropped.
 * A missing or non-string argument gets the error Redis returns for it, returned, not raised.
 */
function replyTable(L: State, field: 'ok' | 'err'): number {
  if (lua.lua_gettop(L) !== 1 || lua.lua_type(L, 1) !== lua.LUA_TSTRING) {
    pushReply(L, new CommandError(WRONG_ARGUMENTS));
    return 1;
  }
  let text: string = to_jsstring(lua.lua_tostring(L, 1));
  if (field === 'err') {
    const body = text.startsWith('-') ? text.slice(1) : text;
    const space = body.indexOf(' ');
    const [code, message] = space === -1 ? ['ERR', body] : [body.slice(0, space), body.slice(space + 1)];
    text = `${code} ${message.replace(/^[\r\n]+|[\r\n]+$/g, '')}`;
  }
  lua.lua_newtable(L);
  lua.lua_pushstring(L, to_luastring(text));
  lua.lua_setfield(L, -2, NAME[field]);
  return 1;
}

/**
 * A compile error in Lua 5.1's words, which Redis reports: 5.1 quotes the names of token classes
 * ("near '<eof>'", "'<name>' expected") where 5.3 leaves them bare.
 */
function asLua51(message: string): string {
  return message.replace(/(^|[\s(])(<eof>|<name>|<string>|<number>|<integer>)(?=[\s)]|$)/g, "$1'$2'");
}

/** A command's reply as Lua sees it (Redis's conversion). */
function pushReply(L: State, reply: Reply | CommandError): void {
  if (reply === null) lua.lua_pushboolean(L, false);
  // Past fengari's 32-bit integers, as the double Lua 5.1 would hold anyway.
  else if (typeof reply === 'number' && Math.abs(reply) <= LUA_INT_MAX) lua.lua_pushinteger(L, reply);
  else if (typeof reply === 'number' || typeof reply === 'bigint') lua.lua_pushnumber(L, Number(reply));
  else if (typeof reply === 'string') lua.lua_pushstring(L, luaString(reply));
  else if (reply instanceof Status || reply instanceof CommandError) {
    lua.lua_newtable(L);
    lua.lua_pushstring(L, luaString(reply instanceof Status ? reply.text : reply.message));
    lua.lua_setfield(L, -2, reply instanceof Status ? NAME.ok : NAME.err);
  } else {
    lua.lua_createtable(L, reply.length, 0);
    reply.forEach((item, i) => {
      pushReply(L, item);
      lua.lua_rawseti(L, -2, i + 1);
    });
  }
}

/** The script's result as a reply (Redis's conversion); an {err=...} table as a CommandError. */
function toReply(L: State, index: number): Reply | CommandError {
  const at = lua.lua_absindex(L, index);
  switch (lua.lua_type(L, at)) {
    case lua.LUA_TNUMBER:
      return asLongLong(lua.lua_tonumber(L, at));
    case lua.LUA_TSTRING:
      return to_jsstring(lua.lua_tostring(L, at));
    case lua.LUA_TBOOLEAN:
      return lua.lua_toboolean(L, at) ? 1 : null;
    case lua.LUA_TTABLE: {
      for (const field of ['err', 'ok'] as const) {
        lua.lua_getfield(L, at, NAME[field]);
        const isString = lua.lua_type(L, -1) === lua.LUA_TSTRING;
        const text: string = isString ? to_jsstring(lua.lua_tostring(L, -1)) : '';
        lua.lua_pop(L, 1);
        if (isString) return field === 'err' ? new CommandError(text) : new Status(text);
      }
      const out: (Reply | CommandError)[] = [];
      for (let i = 1; ; i++) {
        lua.lua_rawgeti(L, at, i);
        if (lua.lua_type(L, -1) === lua.LUA_TNIL) {
          lua.lua_pop(L, 1);
          return out;
        }
        const item = toReply(L, -1);
        lua.lua_pop(L, 1);
        out.push(item);
      }
    }
    default:
      return null;
  }
}

/**
 * A Lua number returned as an integer reply: Redis casts it to a long long, which truncates, and
 * (on x86-64, where lockstep's Redis runs) turns NaN, infinities and anything out of range into
 * the smallest long long.
 */
function asLongLong(n: number): number | bigint {
  const truncated = Math.trunc(n);
  if (Number.isSafeInteger(truncated)) return truncated;
  const wide = Number.isFinite(truncated) ? BigInt(truncated) : LLONG_MIN;
  return wide >= LLONG_MIN && wide < -LLONG_MIN ? integerReply(wide) : LLONG_MIN;
}

/**
 * A failed script as Redis 7.0 reports it: an error table's err (what redis.call raises), else
 * "ERR " and the error as Lua prints it; then where it failed, if the message handler found it.
 */
function errorOf(L: State, sha: string, failedAt: { source: string; line: number } | null): CommandError {
  let message: string | null = null;
  if (lua.lua_type(L, -1) === lua.LUA_TTABLE) {
    lua.lua_getfield(L, -1, NAME.err);
    if (lua.lua_type(L, -1) === lua.LUA_TSTRING) message = to_jsstring(lua.lua_tostring(L, -1));
    lua.lua_pop(L, 1);
  }
  message ??= `ERR ${to_jsstring(lauxlib.luaL_tolstring(L, -1))}`;
  const where = failedAt === null ? '' : ` script: ${sha}, on ${failedAt.source}:${failedAt.line}.`;
  return new CommandError(`${message}${where}`);
}
