/**
 * The simulated Redis's general command interface: what a lock library sends through ioredis
 * (SET with its options, GET, DEL, EXISTS, PEXPIRE, PTTL, INCR, EVAL, EVALSHA, SCRIPT, ...), run
 * against the same keyspace, and the same wall clock, as the recipes' commands. Replies and error
 * texts are Redis 7.0's; the conformance test (live) sends the same commands to a real server.
 * Commands a lock library has no use for (other types, transactions, pub/sub) are answered as
 * unknown, as a server without them would.
 */
import { createHash } from 'node:crypto';
import { liveEntry, type Entry } from './keyspace.ts';
import { LuaEngine } from './lua.ts';
import { CommandError, Status, type Reply } from './reply.ts';

/** Redis's arity: exact when positive, at least -n when negative (the name included). */
const ARITY: Readonly<Record<string, number>> = {
  ping: -1,
  echo: 2,
  get: 2,
  set: -3,
  del: -2,
  exists: -2,
  expire: -3,
  pexpire: -3,
  ttl: 2,
  pttl: 2,
  persist: 2,
  incr: 2,
  incrby: 3,
  decr: 2,
  decrby: 3,
  eval: -3,
  evalsha: -3,
  script: -2,
  select: 2,
};

const OK = new Status('OK');
const NOT_INTEGER = 'ERR value is not an integer or out of range';

/** One engine for the process: scripts hold no state between calls (see lua.ts). */
let engine: LuaEngine | undefined;
function lua(): LuaEngine {
  return (engine ??= new LuaEngine());
}

export function sha1(source: string): string {
  return createHash('sha1').update(source).digest('hex');
}

/** Redis's string2ll: a plain decimal integer, no sign but '-', no leading zeros. */
function integer(text: string): number {
  if (!/^-?(0|[1-9][0-9]*)$/.test(text) || text === '-0') throw new CommandError(NOT_INTEGER);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new CommandError(NOT_INTEGER);
  return n;
}

export class RedisCommands {
  constructor(
    private readonly data: Map<string, Entry>,
    /** The scripts this server has seen (EVAL or SCRIPT LOAD), by SHA1: lost with the process. */
    private readonly scripts: Map<string, string>,
  ) {}

  /** Run one command; `fromScript` when a script's redis.call sends it. */
  execute(args: readonly string[], wallMs: number, fromScript = false): Reply {
    const [first, ...rest] = args;
    if (first === undefined) throw new CommandError('ERR empty command');
    const name = first.toLowerCase();
    const arity = ARITY[name];
    if (arity === undefined)
      throw new CommandError(
        `ERR unknown command '${first}', with args beginning with: ${rest.map((a) => `'${a}' `).join('')}`,
      );
    if (arity >= 0 ? args.length !== arity : args.length < -arity)
      throw new CommandError(`ERR wrong number of arguments for '${name}' command`);
    if (fromScript && (name === 'eval' || name === 'evalsha' || name === 'script'))
      throw new CommandError('ERR This Redis command is not allowed from script');
    const key = rest[0] ?? '';
    switch (name) {
      case 'ping':
        return rest.length === 0 ? new Status('PONG') : key;
      case 'echo':
        return key;
      case 'get':
        return this.live(key, wallMs)?.value ?? null;
      case 'set':
        return this.set(rest, wallMs);
      case 'del':
        return rest.filter((k) => this.live(k, wallMs) !== undefined && this.data.delete(k)).length;
      case 'exists':
        return rest.filter((k) => this.live(k, wallMs) !== undefined).length;
      case 'expire':
      case 'pexpire':
        return this.expire(rest, name === 'expire' ? 1000 : 1, wallMs);
      case 'ttl':
      case 'pttl': {
        const entry = this.live(key, wallMs);
        if (entry === undefined) return -2;
        if (entry.expiresAtMs === null) return -1;
        const leftMs = Math.max(0, Math.round(entry.expiresAtMs - wallMs));
        return name === 'ttl' ? Math.floor((leftMs + 500) / 1000) : leftMs;
      }
      case 'persist': {
        const entry = this.live(key, wallMs);
        if (entry?.expiresAtMs == null) return 0;
        entry.expiresAtMs = null;
        return 1;
      }
      case 'incr':
        return this.incrBy(key, 1, wallMs);
      case 'decr':
        return this.incrBy(key, -1, wallMs);
      case 'incrby':
        return this.incrBy(key, integer(rest[1] ?? ''), wallMs);
      case 'decrby':
        return this.incrBy(key, -integer(rest[1] ?? ''), wallMs);
      case 'eval':
      case 'evalsha':
        return this.eval(name, rest, wallMs);
      case 'script':
        return this.script(rest);
      case 'select':
        // One database: SELECT 0 (which scripts of some libraries send) is all there is.
        if (integer(key) !== 0) throw new CommandError("ERR lockstep's simulated Redis has only database 0");
        return OK;
      default:
        throw new CommandError(`ERR unknown command '${first}'`);
    }
  }

  private live(key: string, wallMs: number): Entry | undefined {
    return liveEntry(this.data, key, wallMs);
  }

  /** SET key value [NX | XX] [GET] [EX s | PX ms | EXAT s | PXAT ms | KEEPTTL] */
  private set(args: readonly string[], wallMs: number): Reply {
    const [key = '', value = ''] = args;
    let condition: 'nx' | 'xx' | null = null;
    let get = false;
    let keepTtl = false;
    let expiresAtMs: number | null = null;
    let expirySet = false;
    for (let i = 2; i < args.length; i++) {
      const option = (args[i] ?? '').toLowerCase();
      if ((option === 'nx' || option === 'xx') && condition === null) condition = option;
      else if (option === 'get' && !get) get = true;
      else if (option === 'keepttl' && !expirySet && !keepTtl) keepTtl = true;
      else if (['ex', 'px', 'exat', 'pxat'].includes(option) && !expirySet && !keepTtl && i + 1 < args.length) {
        const amount = integer(args[++i] ?? '');
        if (amount <= 0) throw new CommandError("ERR invalid expire time in 'set' command");
        const ms = option === 'ex' || option === 'exat' ? amount * 1000 : amount;
        expiresAtMs = option === 'ex' || option === 'px' ? wallMs + ms : ms;
        expirySet = true;
      } else throw new CommandError('ERR syntax error');
    }
    const old = this.live(key, wallMs);
    const previous = get ? (old?.value ?? null) : null;
    if ((condition === 'nx' && old !== undefined) || (condition === 'xx' && old === undefined)) return previous;
    this.data.set(key, { value, expiresAtMs: keepTtl ? (old?.expiresAtMs ?? null) : expiresAtMs });
    return get ? previous : OK;
  }

  /** EXPIRE / PEXPIRE key time [NX | XX | GT | LT] */
  private expire(args: readonly string[], unitMs: number, wallMs: number): number {
    const [key = '', time = ''] = args;
    const amount = integer(time);
    const option = args[2]?.toLowerCase();
    if (args.length > 3 || (option !== undefined && !['nx', 'xx', 'gt', 'lt'].includes(option)))
      throw new CommandError(`ERR Unsupported option ${args[2] ?? ''}`);
    const entry = this.live(key, wallMs);
    if (entry === undefined) return 0;
    const at = wallMs + amount * unitMs;
    const current = entry.expiresAtMs;
    if (option === 'nx' && current !== null) return 0;
    if (option === 'xx' && current === null) return 0;
    if (option === 'gt' && (current === null || at <= current)) return 0;
    if (option === 'lt' && current !== null && at >= current) return 0;
    if (at <= wallMs) this.data.delete(key);
    else entry.expiresAtMs = at;
    return 1;
  }

  private incrBy(key: string, by: number, wallMs: number): number {
    const entry = this.live(key, wallMs);
    const next = (entry === undefined ? 0 : integer(entry.value)) + by;
    if (!Number.isSafeInteger(next)) throw new CommandError('ERR increment or decrement would overflow');
    this.data.set(key, { value: String(next), expiresAtMs: entry?.expiresAtMs ?? null });
    return next;
  }

  /** EVAL script numkeys key... arg... / EVALSHA sha1 numkeys key... arg... */
  private eval(name: 'eval' | 'evalsha', args: readonly string[], wallMs: number): Reply {
    const [body = '', count = ''] = args;
    const numKeys = integer(count);
    if (numKeys < 0) throw new CommandError("ERR Number of keys can't be negative");
    if (numKeys > args.length - 2) throw new CommandError("ERR Number of keys can't be greater than number of args");
    let sha: string;
    if (name === 'eval') {
      sha = sha1(body);
      lua().compile(sha, body);
      this.scripts.set(sha, body);
    } else {
      sha = body.toLowerCase();
      const source = this.scripts.get(sha);
      if (source === undefined) throw new CommandError('NOSCRIPT No matching script. Please use EVAL.');
      lua().compile(sha, source);
    }
    const keys = args.slice(2, 2 + numKeys);
    const argv = args.slice(2 + numKeys);
    return lua().run(sha, keys, argv, (command) => this.execute(command, wallMs, true));
  }

  /** SCRIPT LOAD | EXISTS | FLUSH */
  private script(args: readonly string[]): Reply {
    const [sub = '', ...rest] = args;
    switch (sub.toLowerCase()) {
      case 'load': {
        const source = rest[0];
        if (source === undefined || rest.length !== 1)
          throw new CommandError("ERR wrong number of arguments for 'script|load' command");
        const sha = sha1(source);
        lua().compile(sha, source);
        this.scripts.set(sha, source);
        return sha;
      }
      case 'exists':
        if (rest.length === 0) throw new CommandError("ERR wrong number of arguments for 'script|exists' command");
        return rest.map((sha) => (this.scripts.has(sha.toLowerCase()) ? 1 : 0));
      case 'flush':
        this.scripts.clear();
        return OK;
      default:
        throw new CommandError(`ERR unknown subcommand '${sub}'. Try SCRIPT HELP.`);
    }
  }
}
