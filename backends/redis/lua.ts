/**
 * Lua scripts on the simulated Redis (EVAL, EVALSHA), as lock libraries send them.
 *
 * The interpreter is fengari (Lua 5.3 in JavaScript; Redis embeds Lua 5.1: the scripts lock
 * libraries send use nothing where the two differ, and numbers passed to redis.call are turned
 * into strings as 5.1 would, "3" and not "3.0"). One interpreter serves every simulated server
 * of the process: a script keeps no state between calls (Redis forbids globals), and the server
 * it runs on is the `call` handler of that one execution. Compiled scripts are cached by their
 * SHA1, as Redis does; which scripts a server *knows* (for EVALSHA's NOSCRIPT) is the server's own.
 *
 * What the script sees, as in Redis 7.0: KEYS and ARGV; redis.call (a command error raises a Lua
 * error), redis.pcall (returns it as a table), redis.error_reply, redis.status_reply; the base,
 * table, string and math libraries, with math.random reseeded before each script (Redis makes
 * scripts deterministic the same way). Conversions follow Redis's: nil replies are false, status
 * replies {ok=...}, errors {err=...}; a number returned is truncated to an integer, true is 1,
 * false and nil are a nil reply, a table is an array up to its first nil.
 */
import { createRequire } from 'node:module';
import { CommandError, Status, type Reply } from './reply.ts';

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
};

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
  }

  /** Compile `source` (once per SHA); a syntax error is Redis's "ERR Error compiling script". */
  compile(sha: string, source: string): void {
    if (this.compiled.has(sha)) return;
    const L = this.L;
    const status = lauxlib.luaL_loadbuffer(L, to_luastring(source), null, to_luastring('@user_script'));
    if (status !== lua.LUA_OK) {
      const message = to_jsstring(lua.lua_tostring(L, -1));
      lua.lua_pop(L, 1);
      throw new CommandError(`ERR Error compiling script (new function): ${message}`);
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
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, ref);
    const previous = this.handler;
    this.handler = handler;
    try {
      if (lua.lua_pcall(L, 0, 1, 0) !== lua.LUA_OK) {
        const error = errorOf(L, sha);
        lua.lua_pop(L, 1);
        throw error;
      }
      const reply = toReply(L, -1);
      lua.lua_pop(L, 1);
      if (reply instanceof CommandError) throw reply;
      return reply;
    } finally {
      this.handler = previous;
    }
  }

  private setFunction(name: string, fn: (state: State) => number): void {
    lua.lua_pushjsfunction(this.L, fn);
    lua.lua_setfield(this.L, -2, to_luastring(name));
  }

  /** redis.call / redis.pcall: the command, on the server running the script. */
  private call(L: State, raise: boolean): number {
    const n = lua.lua_gettop(L);
    if (n === 0)
      return lauxlib.luaL_error(L, to_luastring('Please specify at least one argument for this redis lib call'));
    const args: string[] = [];
    for (let i = 1; i <= n; i++) {
      const type = lua.lua_type(L, i);
      if (type === lua.LUA_TNUMBER) args.push(numberArg(L, i));
      else if (type === lua.LUA_TSTRING) args.push(to_jsstring(lua.lua_tostring(L, i)));
      else return lauxlib.luaL_error(L, to_luastring('Lua redis lib command arguments must be strings or integers'));
    }
    let reply: Reply;
    try {
      if (this.handler === null) throw new CommandError('ERR redis.call outside a script');
      reply = this.handler(args);
    } catch (error) {
      if (!(error instanceof CommandError)) throw error;
      pushReply(L, error);
      if (raise) return lua.lua_error(L);
      return 1;
    }
    pushReply(L, reply);
    return 1;
  }
}

/** Lua 5.1 turns a number into "3", not 5.3's "3.0", when it becomes a command argument. */
function numberArg(L: State, i: number): string {
  if (lua.lua_isinteger(L, i)) return String(lua.lua_tointeger(L, i));
  const n: number = lua.lua_tonumber(L, i);
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(17)));
}

function setArray(L: State, name: Uint8Array, values: readonly string[]): void {
  lua.lua_createtable(L, values.length, 0);
  for (let i = 0; i < values.length; i++) {
    lua.lua_pushstring(L, luaString(values[i] ?? ''));
    lua.lua_rawseti(L, -2, i + 1);
  }
  lua.lua_setglobal(L, name);
}

function replyTable(L: State, field: 'ok' | 'err'): number {
  const text = to_jsstring(lauxlib.luaL_checkstring(L, 1));
  lua.lua_newtable(L);
  lua.lua_pushstring(L, to_luastring(text));
  lua.lua_setfield(L, -2, to_luastring(field));
  return 1;
}

/** A command's reply as Lua sees it (Redis's conversion). */
function pushReply(L: State, reply: Reply | CommandError): void {
  if (reply === null) lua.lua_pushboolean(L, false);
  else if (typeof reply === 'number') lua.lua_pushinteger(L, reply);
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
      return Math.trunc(lua.lua_tonumber(L, at));
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
      const out: Reply[] = [];
      for (let i = 1; ; i++) {
        lua.lua_rawgeti(L, at, i);
        if (lua.lua_type(L, -1) === lua.LUA_TNIL) {
          lua.lua_pop(L, 1);
          return out;
        }
        const item = toReply(L, -1);
        lua.lua_pop(L, 1);
        out.push(item instanceof CommandError ? item.message : item);
      }
    }
    default:
      return null;
  }
}

/** A failed script: the error table a redis.call raised, or Lua's own message. */
function errorOf(L: State, sha: string): CommandError {
  if (lua.lua_type(L, -1) === lua.LUA_TTABLE) {
    const raised = toReply(L, -1);
    if (raised instanceof CommandError) return new CommandError(`${raised.message} script: ${sha}, on @user_script.`);
  }
  const message = lua.lua_type(L, -1) === lua.LUA_TSTRING ? to_jsstring(lua.lua_tostring(L, -1)) : 'error';
  return new CommandError(`ERR ${message} script: ${sha}, on @user_script.`);
}
