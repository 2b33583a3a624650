/**
 * The simulated Redis's general command interface: what a lock library sends through ioredis
 * (SET with its options, GET, DEL, EXISTS, PEXPIRE, PTTL, INCR, EVAL, EVALSHA, SCRIPT, ...), run
 * against the same keyspace, and the same wall clock, as the recipes' commands. Replies and error
 * texts are Redis 7.0's: subjects/ioredis-conformance.ts holds the simulator and a real server
 * (live/ioredis-conformance.live.test.ts) to the same expected replies.
 * Commands a lock library has no use for (other types, transactions, pub/sub) are answered as
 * unknown, as a server without them would.
 */
import { createHash } from 'node:crypto';
import { liveEntry, type Entry } from './keyspace.ts';
import { LuaEngine } from './lua.ts';
import { CommandError, integerReply, Status, type Reply } from './reply.ts';

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
const OVERFLOW = 'ERR increment or decrement would overflow';
const NOSCRIPT = 'NOSCRIPT No matching script. Please use EVAL.';
const EXPIRY_UNITS = new Set(['ex', 'px', 'exat', 'pxat']);
/** Redis's integers are C long longs: parsed, added and range-checked as such, exactly. */
const LLONG_MAX = 2n ** 63n - 1n;
const LLONG_MIN = -(2n ** 63n);
/** What Redis quotes of an unknown command's name and arguments (its '%.128s' and 128-byte budget). */
const QUOTED_MAX = 128;

/** One engine for the process: scripts hold no state between calls (see lua.ts). */
let engine: LuaEngine | undefined;
function lua(): LuaEngine {
  return (engine ??= new LuaEngine());
}

export function sha1(source: string): string {
  return createHash('sha1').update(source).digest('hex');
}

/** Redis's string2ll: a plain decimal integer, no sign but '-', no leading zeros, in a long long. */
function longLong(text: string): bigint {
  if (!/^-?(0|[1-9][0-9]*)$/.test(text) || text === '-0') throw new CommandError(NOT_INTEGER);
  const n = BigInt(text);
  if (n > LLONG_MAX || n < LLONG_MIN) throw new CommandError(NOT_INTEGER);
  return n;
}

/** An error Redis formats from a client's text (rejectCommandFormat): no line breaks in it. */
function rejected(message: string): CommandError {
  return new CommandError(message.replace(/[\r\n]/g, ' '));
}

/** Redis 7.0's reply to a command it does not have: the name, and the first 128 bytes (here characters) of arguments. */
function unknownCommand(name: string, args: readonly string[]): CommandError {
  let quoted = '';
  for (const arg of args) {
    if (quoted.length >= QUOTED_MAX) break;
    quoted += `'${arg.slice(0, QUOTED_MAX - quoted.length)}' `;
  }
  return rejected(`ERR unknown command '${name.slice(0, QUOTED_MAX)}', with args beginning with: ${quoted}`);
}

/**
 * SET's expire time as an absolute wall-clock time in ms, checked as Redis 7.0 checks it: positive,
 * and neither the conversion to ms nor the addition of the current time overflowing a long long.
 */
function setExpiry(unit: string, amount: string, wallMs: number): number {
  const invalid = () => new CommandError("ERR invalid expire time in 'set' command");
  const seconds = unit === 'ex' || unit === 'exat';
  let ms = longLong(amount);
  if (ms <= 0n || (seconds && ms > LLONG_MAX / 1000n)) throw invalid();
  if (seconds) ms *= 1000n;
  if (unit === 'exat' || unit === 'pxat') return Number(ms);
  if (ms > LLONG_MAX - BigInt(Math.floor(wallMs))) throw invalid();
  return wallMs + Number(ms);
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
    // A script is told less than a client (Redis's scriptVerifyCommandArity).
    if (arity === undefined)
      throw fromScript ? new CommandError('ERR Unknown Redis command called from script') : unknownCommand(first, rest);
    if (arity >= 0 ? args.length !== arity : args.length < -arity)
      throw new CommandError(
        fromScript
          ? 'ERR Wrong number of args calling Redis command from script'
          : `ERR wrong number of arguments for '${name}' command`,
      );
    if (fromScript && (name === 'eval' || name === 'evalsha' || name === 'script'))
      throw new CommandError('ERR This Redis command is not allowed from script');
    const key = rest[0] ?? '';
    switch (name) {
      case 'ping':
        // PING's arity admits any number; the command itself takes at most one.
        if (rest.length > 1) throw new CommandError("ERR wrong number of arguments for 'ping' command");
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
        return this.expire(name, rest, wallMs);
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
        return this.incrBy(key, 1n, wallMs);
      case 'decr':
        return this.incrBy(key, -1n, wallMs);
      case 'incrby':
        return this.incrBy(key, longLong(rest[1] ?? ''), wallMs);
      case 'decrby': {
        const by = longLong(rest[1] ?? '');
        if (by === LLONG_MIN) throw new CommandError('ERR decrement would overflow');
        return this.incrBy(key, -by, wallMs);
      }
      case 'eval':
      case 'evalsha':
        return this.eval(name, rest, wallMs);
      case 'script':
        return this.script(rest);
      case 'select':
        // One database: SELECT 0 (which scripts of some libraries send) is all there is.
        if (longLong(key) !== 0n) throw new CommandError("ERR lockstep's simulated Redis has only database 0");
        return OK;
      default:
        throw unknownCommand(first, rest);
    }
  }

  private live(key: string, wallMs: number): Entry | undefined {
    return liveEntry(this.data, key, wallMs);
  }

  /**
   * SET key value [NX | XX] [GET] [EX s | PX ms | EXAT s | PXAT ms | KEEPTTL], parsed as Redis 7.0
   * does: an option may come twice (a second expire time of the same kind replaces the first), and
   * the expire time is read only once every option has been accepted.
   */
  private set(args: readonly string[], wallMs: number): Reply {
    const [key = '', value = ''] = args;
    let condition: 'nx' | 'xx' | null = null;
    let get = false;
    let keepTtl = false;
    let expiry: { unit: string; amount: string } | null = null;
    for (let i = 2; i < args.length; i++) {
      const option = (args[i] ?? '').toLowerCase();
      const next = args[i + 1];
      if ((option === 'nx' || option === 'xx') && (condition === null || condition === option)) condition = option;
      else if (option === 'get') get = true;
      else if (option === 'keepttl' && expiry === null) keepTtl = true;
      else if (
        EXPIRY_UNITS.has(option) &&
        !keepTtl &&
        (expiry === null || expiry.unit === option) &&
        next !== undefined
      ) {
        expiry = { unit: option, amount: next };
        i++;
      } else throw new CommandError('ERR syntax error');
    }
    const expiresAtMs = expiry === null ? null : setExpiry(expiry.unit, expiry.amount, wallMs);
    const old = this.live(key, wallMs);
    const previous = get ? (old?.value ?? null) : null;
    if ((condition === 'nx' && old !== undefined) || (condition === 'xx' && old === undefined)) return previous;
    this.data.set(key, { value, expiresAtMs: keepTtl ? (old?.expiresAtMs ?? null) : expiresAtMs });
    return get ? previous : OK;
  }

  /**
   * EXPIRE / PEXPIRE key time [NX | XX | GT | LT]..., as Redis 7.0 checks it: the options first
   * (any number of them, some pairs clashing), then the time, then whether the key exists.
   */
  private expire(name: 'expire' | 'pexpire', args: readonly string[], wallMs: number): number {
    const [key = '', time = ''] = args;
    const flags = new Set<string>();
    for (const option of args.slice(2)) {
      const flag = option.toLowerCase();
      if (!['nx', 'xx', 'gt', 'lt'].includes(flag)) throw rejected(`ERR Unsupported option ${option}`);
      flags.add(flag);
    }
    if (flags.has('nx') && (flags.has('xx') || flags.has('gt') || flags.has('lt')))
      throw new CommandError('ERR NX and XX, GT or LT options at the same time are not compatible');
    if (flags.has('gt') && flags.has('lt'))
      throw new CommandError('ERR GT and LT options at the same time are not compatible');
    let ms = longLong(time);
    const invalid = () => new CommandError(`ERR invalid expire time in '${name}' command`);
    if (name === 'expire') {
      if (ms > LLONG_MAX / 1000n || ms < LLONG_MIN / 1000n) throw invalid();
      ms *= 1000n;
    }
    if (ms > LLONG_MAX - BigInt(Math.floor(wallMs))) throw invalid();
    const entry = this.live(key, wallMs);
    if (entry === undefined) return 0;
    const at = wallMs + Number(ms);
    const current = entry.expiresAtMs;
    if (flags.has('nx') && current !== null) return 0;
    if (flags.has('xx') && current === null) return 0;
    if (flags.has('gt') && (current === null || at <= current)) return 0;
    if (flags.has('lt') && current !== null && at >= current) return 0;
    if (at <= wallMs) this.data.delete(key);
    else entry.expiresAtMs = at;
    return 1;
  }

  private incrBy(key: string, by: bigint, wallMs: number): Reply {
    const entry = this.live(key, wallMs);
    const next = (entry === undefined ? 0n : longLong(entry.value)) + by;
    if (next > LLONG_MAX || next < LLONG_MIN) throw new CommandError(OVERFLOW);
    this.data.set(key, { value: String(next), expiresAtMs: entry?.expiresAtMs ?? null });
    return integerReply(next);
  }

  /** EVAL script numkeys key... arg... / EVALSHA sha1 numkeys key... arg... */
  private eval(name: 'eval' | 'evalsha', args: readonly string[], wallMs: number): Reply {
    const [body = '', count = ''] = args;
    // No script has a SHA1 of another length: Redis says so before it reads anything else.
    if (name === 'evalsha' && body.length !== 40) throw new CommandError(NOSCRIPT);
    const numKeys = Number(longLong(count));
    if (numKeys > args.length - 2) throw new CommandError("ERR Number of keys can't be greater than number of args");
    if (numKeys < 0) throw new CommandError("ERR Number of keys can't be negative");
    let sha: string;
    if (name === 'eval') {
      sha = sha1(body);
      lua().compile(sha, body);
      this.scripts.set(sha, body);
    } else {
      sha = body.toLowerCase();
      const source = this.scripts.get(sha);
      if (source === undefined) throw new CommandError(NOSCRIPT);
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
        if (rest.length > 1 || (rest.length === 1 && !['sync', 'async'].includes(rest[0]?.toLowerCase() ?? '')))
          throw new CommandError('ERR SCRIPT FLUSH only support SYNC|ASYNC option');
        this.scripts.clear();
        return OK;
      default:
        throw rejected(`ERR unknown subcommand '${sub.slice(0, QUOTED_MAX)}'. Try SCRIPT HELP.`);
    }
  }
}
