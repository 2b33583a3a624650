/**
 * One conformance suite for the simulated ioredis client (sim-ioredis.ts) and the simulated Redis
 * behind it (backends/redis/commands.ts, lua.ts): calls as lock libraries make them through ioredis
 * 5, each with the reply or the error that a real Redis 7.0 gives (recorded from redis-server
 * 7.0.15 through ioredis). ioredis-conformance.test.ts runs the cases in the simulator;
 * live/ioredis-conformance.live.test.ts runs them with ioredis on a private redis-server. Both
 * assert the same expectations, so wherever the simulator and Redis disagree, one of them fails.
 *
 * Time: a TTL read back right after it was set is checked within a range, not exactly, because a
 * real round trip takes real time and a simulated one virtual time. The clock and the waits come
 * from the world the cases run in (`CaseWorld`): the client node's wall clock and timers in the
 * simulator, the machine's live; the only wait (`sleepMs`) is there to let a key expire.
 *
 * Keys: every case has its own namespace in every run (`Namespace`), so a rerun on the same server,
 * or a key left over by another case, changes nothing.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { ReplyError } from 'ioredis';

/** What the cases need of a client: its command methods are looked up by name. */
export interface ConformanceClient {
  defineCommand(name: string, definition: { lua: string; numberOfKeys?: number }): void;
}

export interface Namespace {
  /** A key of this case in this run. */
  readonly key: (name: string) => string;
  /** Unique to this case in this run: in script texts, so that no earlier run has loaded them. */
  readonly tag: string;
}

/** Where a case runs: the client's wall clock (PXAT and EXAT are taken from it) and its waits. */
export interface CaseWorld {
  /** Wall-clock time in ms since the epoch, as Date.now() gives it. */
  nowMs(): number;
  sleep(ms: number): Promise<void>;
}

/** What a case's steps are built from: its namespace and the wall-clock time it starts at. */
export type CaseContext = Namespace & { readonly nowMs: number };

export function namespace(run: string, caseIndex: number): Namespace {
  const prefix = `lockstep:ioredis-conformance:${run}:${caseIndex}`;
  return { key: (name) => `${prefix}:${name}`, tag: prefix };
}

export type Expect =
  /** This reply, deep-equal; an error inside an array is `{ replyError: message }`. */
  | { readonly reply: unknown }
  /** A ReplyError with exactly this message. */
  | { readonly error: string }
  /** A ReplyError whose message starts and ends so: the middle is worded differently, for `why`. */
  | { readonly errorAround: readonly [prefix: string, suffix: string]; readonly why: string }
  /** An integer in [min, max]: a TTL read back after a round trip. */
  | { readonly between: readonly [min: number, max: number] };

export type Step =
  /** `client[send](...args)`; with `callback`, a Node-style callback last instead of the promise. */
  | { readonly send: string; readonly args: readonly unknown[]; readonly expect: Expect; readonly callback?: true }
  /** A library's own function, given the client, and what it returns. */
  | { readonly library: string; readonly run: (client: ConformanceClient) => Promise<unknown>; readonly expect: Expect }
  /** Something done to the client that answers nothing (defineCommand). */
  | { readonly setup: string; readonly run: (client: ConformanceClient) => void }
  | { readonly sleepMs: number };

export interface ConformanceCase {
  readonly name: string;
  /** Built when the case starts, at `nowMs` (the time PXAT and EXAT count from). */
  readonly steps: (context: CaseContext) => Step[];
}

const reply = (value: unknown): Expect => ({ reply: value });
const error = (message: string): Expect => ({ error: message });
const between = (min: number, max: number): Expect => ({ between: [min, max] });
const send = (method: string, ...args: unknown[]) => ({
  expect: (expect: Expect): Step => ({ send: method, args, expect }),
  callback: (expect: Expect): Step => ({ send: method, args, expect, callback: true }),
});

const NOT_INTEGER = 'ERR value is not an integer or out of range';
const SYNTAX = 'ERR syntax error';
const SET_EXPIRE = "ERR invalid expire time in 'set' command";
const NOSCRIPT = 'NOSCRIPT No matching script. Please use EVAL.';
const LLONG_MAX = '9223372036854775807';
const arity = (command: string) => `ERR wrong number of arguments for '${command}' command`;
const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');
/** How Redis 7.0 reports a script stopped by an error: what it was, then where. */
const scriptError = (message: string, source: string, line: number) =>
  `${message} script: ${sha1(source)}, on @user_script:${line}.`;

const require = createRequire(import.meta.url);
interface Redlock5Scripts {
  readonly scripts: Record<'acquireScript' | 'extendScript' | 'releaseScript', { readonly value: string }>;
}
/** redlock 5's scripts, as the library builds them (its constructor only wants a client to hold). */
const redlock5 = new (require('redlock') as { default: new (clients: object[]) => Redlock5Scripts }).default([{}])
  .scripts;
type SemaphoreEval = (client: ConformanceClient, args: unknown[]) => Promise<unknown>;
const semaphoreRefresh = require('redis-semaphore/lib/mutex/refresh') as { expireIfEqualLua: SemaphoreEval };
const semaphoreRelease = require('redis-semaphore/lib/mutex/release') as { delIfEqualLua: SemaphoreEval };
const sesamecare = require('@sesamecare-oss/redlock/build/scripts') as {
  ensureCommands(client: ConformanceClient): void;
};

const setCases: ConformanceCase[] = [
  {
    name: 'SET NX sets a free key; on a taken one it answers nil and keeps the value',
    steps: ({ key }) => [
      send('set', key('a'), 'v1', 'NX').expect(reply('OK')),
      send('set', key('a'), 'v2', 'NX').expect(reply(null)),
      send('get', key('a')).expect(reply('v1')),
    ],
  },
  {
    name: 'SET XX overwrites only a key that exists',
    steps: ({ key }) => [
      send('set', key('a'), 'v1', 'XX').expect(reply(null)),
      send('exists', key('a')).expect(reply(0)),
      send('set', key('a'), 'v1').expect(reply('OK')),
      send('set', key('a'), 'v2', 'XX').expect(reply('OK')),
      send('get', key('a')).expect(reply('v2')),
    ],
  },
  {
    name: 'SET GET answers the old value or nil, with NX and XX as well',
    steps: ({ key }) => [
      send('set', key('a'), 'v1', 'GET').expect(reply(null)),
      send('set', key('a'), 'v2', 'GET').expect(reply('v1')),
      send('set', key('a'), 'v3', 'NX', 'GET').expect(reply('v2')),
      send('get', key('a')).expect(reply('v2')),
      send('set', key('b'), 'v', 'XX', 'GET').expect(reply(null)),
      send('exists', key('b')).expect(reply(0)),
    ],
  },
  {
    name: 'SET PX and EX give a TTL that PTTL and TTL read back; a plain SET drops it, KEEPTTL keeps it',
    steps: ({ key }) => [
      send('set', key('a'), 'v', 'PX', 10_000).expect(reply('OK')),
      send('pttl', key('a')).expect(between(9000, 10_000)),
      send('ttl', key('a')).expect(between(9, 10)),
      send('set', key('a'), 'v2', 'KEEPTTL').expect(reply('OK')),
      send('pttl', key('a')).expect(between(9000, 10_000)),
      send('set', key('a'), 'v3').expect(reply('OK')),
      send('pttl', key('a')).expect(reply(-1)),
      send('set', key('a'), 'v4', 'EX', 100).expect(reply('OK')),
      send('ttl', key('a')).expect(between(99, 100)),
    ],
  },
  {
    name: 'SET PXAT and EXAT are absolute wall-clock times; one in the past leaves no key',
    steps: ({ key, nowMs }) => [
      send('set', key('a'), 'v', 'PXAT', nowMs + 10_000).expect(reply('OK')),
      send('pttl', key('a')).expect(between(9000, 10_000)),
      send('set', key('b'), 'v', 'EXAT', Math.floor(nowMs / 1000) + 100).expect(reply('OK')),
      send('ttl', key('b')).expect(between(98, 100)),
      send('set', key('c'), 'v', 'PXAT', 1).expect(reply('OK')),
      send('exists', key('c')).expect(reply(0)),
    ],
  },
  {
    name: 'SET accepts an option twice, as Redis 7.0 does, and the last expire time given wins',
    steps: ({ key }) => [
      send('set', key('a'), 'v1', 'NX', 'NX').expect(reply('OK')),
      send('set', key('a'), 'v2', 'GET', 'GET').expect(reply('v1')),
      send('set', key('a'), 'v3', 'EX', 0, 'EX', 100).expect(reply('OK')),
      send('ttl', key('a')).expect(between(99, 100)),
      send('set', key('a'), 'v4', 'KEEPTTL', 'KEEPTTL').expect(reply('OK')),
      send('ttl', key('a')).expect(between(99, 100)),
      send('set', key('a'), 'v5', 'px', 5000, 'xx').expect(reply('OK')),
      send('pttl', key('a')).expect(between(4000, 5000)),
    ],
  },
  {
    name: 'SET refuses an expire time that is not positive or overflows: invalid expire time',
    steps: ({ key }) => [
      send('set', key('a'), 'v', 'EX', 0).expect(error(SET_EXPIRE)),
      send('set', key('a'), 'v', 'PX', -5).expect(error(SET_EXPIRE)),
      send('set', key('a'), 'v', 'EX', LLONG_MAX).expect(error(SET_EXPIRE)),
      send('set', key('a'), 'v', 'PX', LLONG_MAX).expect(error(SET_EXPIRE)),
      send('exists', key('a')).expect(reply(0)),
    ],
  },
  {
    name: 'SET refuses a bad option or combination as a syntax error, before it reads the expire time',
    steps: ({ key }) => [
      send('set', key('a'), 'v', 'NX', 'XX').expect(error(SYNTAX)),
      send('set', key('a'), 'v', 'EX', 10, 'PX', 10).expect(error(SYNTAX)),
      send('set', key('a'), 'v', 'KEEPTTL', 'EX', 10).expect(error(SYNTAX)),
      send('set', key('a'), 'v', 'EX').expect(error(SYNTAX)),
      send('set', key('a'), 'v', 'FOO').expect(error(SYNTAX)),
      send('set', key('a'), 'v', 'EX', 'abc', 'NX', 'XX').expect(error(SYNTAX)),
      send('set', key('a'), 'v', 'EX', 'abc').expect(error(NOT_INTEGER)),
      send('set', key('a'), 'v', 'EX', '1.5').expect(error(NOT_INTEGER)),
      send('exists', key('a')).expect(reply(0)),
    ],
  },
];

const keyCases: ConformanceCase[] = [
  {
    name: 'GET, DEL and EXISTS: nil for a missing key, and counts with repeated keys',
    steps: ({ key }) => [
      send('get', key('a')).expect(reply(null)),
      send('set', key('a'), 'v').expect(reply('OK')),
      send('set', key('b'), 'w').expect(reply('OK')),
      send('exists', key('a'), key('a'), key('b'), key('c')).expect(reply(3)),
      send('del', key('a'), key('a'), key('c')).expect(reply(1)),
      send('del', key('a')).expect(reply(0)),
      send('exists', key('a')).expect(reply(0)),
      send('get', key('b')).expect(reply('w')),
      send('exists', [key('a'), key('b')]).expect(reply(1)),
    ],
  },
  {
    name: 'PEXPIRE and EXPIRE: 0 on a missing key, 1 and a TTL on a present one; a time in the past deletes it',
    steps: ({ key }) => [
      send('pexpire', key('a'), 1000).expect(reply(0)),
      send('set', key('a'), 'v').expect(reply('OK')),
      send('pexpire', key('a'), 10_000).expect(reply(1)),
      send('pttl', key('a')).expect(between(9000, 10_000)),
      send('expire', key('a'), 100).expect(reply(1)),
      send('ttl', key('a')).expect(between(99, 100)),
      send('pexpire', key('a'), -5).expect(reply(1)),
      send('exists', key('a')).expect(reply(0)),
      send('ttl', key('a')).expect(reply(-2)),
      send('pttl', key('a')).expect(reply(-2)),
    ],
  },
  {
    name: 'EXPIRE with NX, XX, GT and LT, alone and combined; no TTL counts as an infinite one',
    steps: ({ key }) => [
      send('set', key('a'), 'v').expect(reply('OK')),
      send('expire', key('a'), 100, 'XX').expect(reply(0)),
      send('expire', key('a'), 100, 'GT').expect(reply(0)),
      send('expire', key('a'), 100, 'NX').expect(reply(1)),
      send('expire', key('a'), 200, 'NX').expect(reply(0)),
      send('expire', key('a'), 50, 'GT').expect(reply(0)),
      send('expire', key('a'), 200, 'gt').expect(reply(1)),
      send('ttl', key('a')).expect(between(199, 200)),
      send('expire', key('a'), 300, 'LT').expect(reply(0)),
      send('expire', key('a'), 150, 'XX', 'LT').expect(reply(1)),
      send('ttl', key('a')).expect(between(149, 150)),
      send('persist', key('a')).expect(reply(1)),
      send('expire', key('a'), 10, 'LT').expect(reply(1)),
      send('ttl', key('a')).expect(between(9, 10)),
    ],
  },
  {
    name: 'EXPIRE refuses unknown or clashing options before it reads the time, then a time that overflows',
    steps: ({ key }) => [
      send('expire', key('a'), 'abc', 'FOO').expect(error('ERR Unsupported option FOO')),
      send('expire', key('a'), 10, 'NX', 'XX').expect(
        error('ERR NX and XX, GT or LT options at the same time are not compatible'),
      ),
      send('expire', key('a'), 10, 'GT', 'LT').expect(
        error('ERR GT and LT options at the same time are not compatible'),
      ),
      send('expire', key('a'), 'abc').expect(error(NOT_INTEGER)),
      send('expire', key('a'), LLONG_MAX).expect(error("ERR invalid expire time in 'expire' command")),
      send('pexpire', key('a'), LLONG_MAX).expect(error("ERR invalid expire time in 'pexpire' command")),
    ],
  },
  {
    name: 'TTL and PTTL: -2 for a missing key, -1 for one without a TTL; PERSIST removes a TTL once',
    steps: ({ key }) => [
      send('ttl', key('a')).expect(reply(-2)),
      send('pttl', key('a')).expect(reply(-2)),
      send('set', key('a'), 'v').expect(reply('OK')),
      send('ttl', key('a')).expect(reply(-1)),
      send('pttl', key('a')).expect(reply(-1)),
      send('persist', key('a')).expect(reply(0)),
      send('pexpire', key('a'), 10_000).expect(reply(1)),
      send('persist', key('a')).expect(reply(1)),
      send('persist', key('a')).expect(reply(0)),
      send('pttl', key('a')).expect(reply(-1)),
      send('persist', key('b')).expect(reply(0)),
    ],
  },
  {
    name: 'a key set with PX is gone once its time has passed, and free for SET NX',
    steps: ({ key }) => [
      send('set', key('a'), 'v', 'PX', 100).expect(reply('OK')),
      { sleepMs: 200 },
      send('get', key('a')).expect(reply(null)),
      send('exists', key('a')).expect(reply(0)),
      send('pttl', key('a')).expect(reply(-2)),
      send('set', key('a'), 'w', 'NX').expect(reply('OK')),
    ],
  },
];

const counterCases: ConformanceCase[] = [
  {
    name: 'INCR, INCRBY, DECR and DECRBY count from a missing key, and keep its TTL',
    steps: ({ key }) => [
      send('incr', key('a')).expect(reply(1)),
      send('incrby', key('a'), 10).expect(reply(11)),
      send('decr', key('a')).expect(reply(10)),
      send('decrby', key('a'), 20).expect(reply(-10)),
      send('get', key('a')).expect(reply('-10')),
      send('pexpire', key('a'), 10_000).expect(reply(1)),
      send('incr', key('a')).expect(reply(-9)),
      send('pttl', key('a')).expect(between(9000, 10_000)),
    ],
  },
  {
    name: 'INCR on a value that is not a plain integer: value is not an integer or out of range',
    steps: ({ key }) => [
      send('set', key('a'), 'abc').expect(reply('OK')),
      send('incr', key('a')).expect(error(NOT_INTEGER)),
      send('set', key('a'), '007').expect(reply('OK')),
      send('incr', key('a')).expect(error(NOT_INTEGER)),
      send('set', key('a'), ' 1').expect(reply('OK')),
      send('decr', key('a')).expect(error(NOT_INTEGER)),
      send('set', key('a'), '1.5').expect(reply('OK')),
      send('incrby', key('a'), 1).expect(error(NOT_INTEGER)),
      send('get', key('a')).expect(reply('1.5')),
      send('incrby', key('b'), 'x').expect(error(NOT_INTEGER)),
      send('incrby', key('b'), '9223372036854775808').expect(error(NOT_INTEGER)),
      send('exists', key('b')).expect(reply(0)),
    ],
  },
  {
    name: 'INCR and DECR at the ends of the 64-bit range: overflow errors, the value kept',
    steps: ({ key }) => [
      send('set', key('a'), '9223372036854775806').expect(reply('OK')),
      // ioredis reads an integer reply digit by digit into a double (redis-parser), which rounds
      // 2^63 - 1 to this, not to the nearest double.
      send('incr', key('a')).expect(reply(9223372036854778000)),
      send('get', key('a')).expect(reply(LLONG_MAX)),
      send('incr', key('a')).expect(error('ERR increment or decrement would overflow')),
      send('decrby', key('b'), '-9223372036854775808').expect(error('ERR decrement would overflow')),
      send('set', key('b'), '-9223372036854775808').expect(reply('OK')),
      send('decr', key('b')).expect(error('ERR increment or decrement would overflow')),
      send('get', key('b')).expect(reply('-9223372036854775808')),
    ],
  },
];

const protocolCases: ConformanceCase[] = [
  {
    name: 'a wrong number of arguments is refused, the command named in lower case',
    steps: ({ key }) => [
      send('get').expect(error(arity('get'))),
      send('get', key('a'), key('b')).expect(error(arity('get'))),
      send('call', 'GET').expect(error(arity('get'))),
      send('set', key('a')).expect(error(arity('set'))),
      send('incr').expect(error(arity('incr'))),
      send('ping', 'a', 'b').expect(error(arity('ping'))),
      send('echo').expect(error(arity('echo'))),
      send('call', 'script').expect(error(arity('script'))),
      send('script', 'LOAD').expect(error(arity('script|load'))),
      send('script', 'EXISTS').expect(error(arity('script|exists'))),
    ],
  },
  {
    name: 'an unknown command is refused with its name and its first 128 characters of arguments',
    steps: () => [
      send('call', 'foo', 'a').expect(error("ERR unknown command 'foo', with args beginning with: 'a' ")),
      send('call', 'foo').expect(error("ERR unknown command 'foo', with args beginning with: ")),
      send('call', 'FOO', 'x'.repeat(200)).expect(
        error(`ERR unknown command 'FOO', with args beginning with: '${'x'.repeat(128)}' `),
      ),
      send('call', 'foo', ...Array.from({ length: 40 }, (_, i) => `arg${i}`)).expect(
        error(
          "ERR unknown command 'foo', with args beginning with: 'arg0' 'arg1' 'arg2' 'arg3' 'arg4' 'arg5' " +
            "'arg6' 'arg7' 'arg8' 'arg9' 'arg10' 'arg11' 'arg12' 'arg13' 'arg14' 'arg15' 'arg16' 'ar' ",
        ),
      ),
      // Redis writes no line break into an error reply.
      send('call', 'foo', 'a\r\nb').expect(error("ERR unknown command 'foo', with args beginning with: 'a  b' ")),
    ],
  },
  {
    name: 'PING, ECHO, and SELECT of database 0 or of something not a number',
    steps: () => [
      send('ping').expect(reply('PONG')),
      send('ping', 'hi').expect(reply('hi')),
      send('echo', 'hi').expect(reply('hi')),
      send('call', 'select', '0').expect(reply('OK')),
      send('call', 'select', 'abc').expect(error(NOT_INTEGER)),
    ],
  },
  {
    name: 'arguments as ioredis sends them: arrays flattened, numbers as decimals, null and undefined as empty',
    steps: ({ key }) => [
      send('set', key('a'), 42).expect(reply('OK')),
      send('get', key('a')).expect(reply('42')),
      send('set', key('a'), 1.5).expect(reply('OK')),
      send('get', key('a')).expect(reply('1.5')),
      send('set', key('a'), null).expect(reply('OK')),
      send('get', key('a')).expect(reply('')),
      send('set', key('a'), undefined).expect(reply('OK')),
      send('get', key('a')).expect(reply('')),
      send('call', 'set', [key('b'), 'v'], ['PX', 10_000]).expect(reply('OK')),
      send('pttl', key('b')).expect(between(9000, 10_000)),
    ],
  },
  {
    name: 'Node-style callbacks get (null, reply) or the ReplyError',
    steps: ({ key, tag }) => [
      send('get', key('a')).callback(reply(null)),
      send('set', key('a'), 'v').callback(reply('OK')),
      send('get', key('a')).callback(reply('v')),
      send('incr', key('a')).callback(error(NOT_INTEGER)),
      send('call', 'exists', key('a')).callback(reply(1)),
      { setup: 'defineCommand echoKey', run: (client) => client.defineCommand('echoKey', echoKey(tag)) },
      send('echoKey', key('a'), 'x').callback(reply([key('a'), 'x', tag])),
    ],
  },
];

/** A script whose reply shows what it was given; `tag` makes it new to the server. */
const echoKey = (tag: string) => ({ lua: `return {KEYS[1], ARGV[1], '${tag}'}`, numberOfKeys: 1 });

const evalCases: ConformanceCase[] = [
  {
    name: 'EVAL turns Lua values into replies: numbers truncated, true 1, false and nil nil, tables up to a nil',
    steps: ({ key }) => [
      send('eval', 'return 42', 0).expect(reply(42)),
      send('eval', 'return 3.99', 0).expect(reply(3)),
      send('eval', 'return -3.5', 0).expect(reply(-3)),
      send('eval', 'return 2^53', 0).expect(reply(9007199254740992)),
      // Cast to a long long as x86-64 does: what has no value there becomes -2^63 (read by ioredis
      // digit by digit, see the INCR case).
      send('eval', 'return 1/0', 0).expect(reply(-9223372036854778000)),
      send('eval', 'return {0/0, 1e300}', 0).expect(reply([-9223372036854778000, -9223372036854778000])),
      send('eval', 'return "x"', 0).expect(reply('x')),
      send('eval', 'return nil', 0).expect(reply(null)),
      send('eval', 'return true', 0).expect(reply(1)),
      send('eval', 'return false', 0).expect(reply(null)),
      send('eval', 'return {1, "two", {3, false}, 4.7}', 0).expect(reply([1, 'two', [3, null], 4])),
      send('eval', 'return {1, nil, 3}', 0).expect(reply([1])),
      send('eval', 'return {a = 1}', 0).expect(reply([])),
      send('eval', 'return {err = 3}', 0).expect(reply([])),
      send('eval', 'return {KEYS[1], ARGV[1], #ARGV}', 1, key('a'), 'x', 'y').expect(reply([key('a'), 'x', 2])),
      send('eval', 'return ARGV', 0, ['p', 'q']).expect(reply(['p', 'q'])),
    ],
  },
  {
    name: 'EVAL passes redis.call replies through: statuses as text, nil as false, integers beyond 32 bits',
    steps: ({ key }) => [
      send('eval', "return {ok = 'FINE'}", 0).expect(reply('FINE')),
      send('eval', "return redis.status_reply('FINE')", 0).expect(reply('FINE')),
      send('eval', "return redis.call('set', KEYS[1], 'x')", 1, key('a')).expect(reply('OK')),
      send('eval', "return redis.call('ping')", 0).expect(reply('PONG')),
      send('eval', "return {redis.call('get', KEYS[1]), 1}", 1, key('b')).expect(reply([null, 1])),
      send('eval', "return redis.call('get', KEYS[1]) == false", 1, key('b')).expect(reply(1)),
      send('eval', "return redis.call('incrby', KEYS[1], 3000000000)", 1, key('n')).expect(reply(3000000000)),
      send('eval', "return redis.call('incrby', KEYS[1], 3000000000) + 1", 1, key('n')).expect(reply(6000000001)),
      // Lua numbers become arguments as Redis formats them ("%.17g"), not as Lua prints them.
      send('eval', "return redis.call('set', KEYS[1], 3.0)", 1, key('f')).expect(reply('OK')),
      send('get', key('f')).expect(reply('3')),
      send('eval', "return redis.call('set', KEYS[1], 0.1)", 1, key('f')).expect(reply('OK')),
      send('get', key('f')).expect(reply('0.10000000000000001')),
      send('eval', "return redis.call('set', KEYS[1], 1e20)", 1, key('f')).expect(reply('OK')),
      send('get', key('f')).expect(reply('1e+20')),
    ],
  },
  {
    name: 'EVAL error replies: a returned {err=...} as it is, redis.error_reply with a code (ERR if none)',
    steps: () => [
      send('eval', "return {err = 'oops'}", 0).expect(error('oops')),
      send('eval', "return {err = 'My Error'}", 0).expect(error('My Error')),
      send('eval', "return redis.error_reply('oops')", 0).expect(error('ERR oops')),
      send('eval', "return redis.error_reply('My Error')", 0).expect(error('My Error')),
      send('eval', "return redis.error_reply('-WRONG thing')", 0).expect(error('WRONG thing')),
      send('eval', "return redis.error_reply('a\\r\\n')", 0).expect(error('ERR a')),
      send('eval', 'return redis.error_reply(3)', 0).expect(error('ERR wrong number or type of arguments')),
      send('eval', 'return redis.status_reply({})', 0).expect(error('ERR wrong number or type of arguments')),
      send('eval', "return {1, redis.error_reply('x'), 3}", 0).expect(reply([1, { replyError: 'ERR x' }, 3])),
    ],
  },
  {
    name: 'EVAL stops at a redis.call that fails, keeping earlier writes, and says where (SHA1 and line)',
    steps: ({ key }) => {
      const incr = "return redis.call('incr', KEYS[1])";
      const partial = "redis.call('set', KEYS[1], 'partial')\nreturn redis.call('incr', KEYS[1])";
      const unknown = "local x = 1\nreturn redis.call('foo')";
      const nested = "local function f()\n  return redis.call('incr', KEYS[1])\nend\nreturn f()";
      return [
        send('set', key('a'), 'abc').expect(reply('OK')),
        send('eval', incr, 1, key('a')).expect(error(scriptError(NOT_INTEGER, incr, 1))),
        send('eval', partial, 1, key('b')).expect(error(scriptError(NOT_INTEGER, partial, 2))),
        send('get', key('b')).expect(reply('partial')),
        send('eval', nested, 1, key('a')).expect(error(scriptError(NOT_INTEGER, nested, 2))),
        send('eval', unknown, 0).expect(error(scriptError('ERR Unknown Redis command called from script', unknown, 2))),
        ...[
          ["return redis.call('get')", 'ERR Wrong number of args calling Redis command from script'],
          ["return redis.call('get', {})", 'ERR Lua redis lib command arguments must be strings or integers'],
          ['return redis.call()', 'ERR Please specify at least one argument for this redis lib call'],
          ["return redis.call('eval', 'return 1', 0)", 'ERR This Redis command is not allowed from script'],
        ].map(([source = '', message = '']) => send('eval', source, 0).expect(error(scriptError(message, source, 1)))),
      ];
    },
  },
  {
    name: 'EVAL with redis.pcall: the failure is the reply, with no place attached',
    steps: ({ key }) => [
      send('set', key('a'), 'abc').expect(reply('OK')),
      send('eval', "return redis.pcall('incr', KEYS[1])", 1, key('a')).expect(error(NOT_INTEGER)),
      send('eval', "return redis.pcall('foo')", 0).expect(error('ERR Unknown Redis command called from script')),
      send('eval', "return redis.pcall('get')", 0).expect(
        error('ERR Wrong number of args calling Redis command from script'),
      ),
      send('eval', 'return redis.pcall()', 0).expect(
        error('ERR Please specify at least one argument for this redis lib call'),
      ),
      send('eval', "return redis.pcall('get', {})", 0).expect(
        error('ERR Lua redis lib command arguments must be strings or integers'),
      ),
      send('eval', "return redis.pcall('eval', 'return 1', 0)", 0).expect(
        error('ERR This Redis command is not allowed from script'),
      ),
      send('eval', "local r = redis.pcall('incr', KEYS[1])\nreturn r.err", 1, key('a')).expect(reply(NOT_INTEGER)),
    ],
  },
  {
    name: "EVAL's Lua errors: error(), globals, and a runtime error worded by Lua itself",
    steps: () => {
      const boom = "error('boom')";
      const bare = "error('boom', 0)";
      const table = "error({err = 'custom'})";
      const global = 'return foo()';
      const assign = 'x = 1';
      const index = 'local t = {}\nt.a.b = 1';
      return [
        send('eval', boom, 0).expect(error(scriptError('ERR user_script:1: boom', boom, 1))),
        send('eval', bare, 0).expect(error(scriptError('ERR boom', bare, 1))),
        send('eval', table, 0).expect(error(scriptError('custom', table, 1))),
        send('eval', global, 0).expect(
          error(
            scriptError("ERR user_script:1: Script attempted to access nonexistent global variable 'foo'", global, 1),
          ),
        ),
        send('eval', assign, 0).expect(
          error(scriptError('ERR user_script:1: Attempt to modify a readonly table', assign, 1)),
        ),
        send('eval', index, 0).expect({
          errorAround: ['ERR user_script:2: attempt to index ', scriptError('', index, 2)],
          why: 'Lua 5.1 (Redis) says "field \'a\' (a nil value)", Lua 5.3 (fengari) "a nil value (field \'a\')"',
        }),
      ];
    },
  },
  {
    name: 'EVAL refuses a bad key count, then a script that does not compile',
    steps: ({ key }) => [
      send('eval', 'return 1', 'x').expect(error(NOT_INTEGER)),
      send('eval', 'return 1', -1).expect(error("ERR Number of keys can't be negative")),
      send('eval', 'return 1', 3, key('a')).expect(error("ERR Number of keys can't be greater than number of args")),
      send('eval', 'return 1 +', 'x').expect(error(NOT_INTEGER)),
      send('eval', 'return 1 +', 0).expect(
        error("ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'"),
      ),
      send('eval', 'if x then', 0).expect(
        error("ERR Error compiling script (new function): user_script:1: 'end' expected near '<eof>'"),
      ),
      send('eval', 'local = 1', 0).expect(
        error("ERR Error compiling script (new function): user_script:1: '<name>' expected near '='"),
      ),
    ],
  },
  {
    name: 'EVALSHA of an unknown script: NOSCRIPT, checked before the key count only when the SHA1 is not 40 long',
    steps: ({ tag }) => [
      send('evalsha', sha1(`return '${tag}'`), 0).expect(error(NOSCRIPT)),
      send('evalsha', 'abc', 'x').expect(error(NOSCRIPT)),
      send('evalsha', sha1(`return '${tag}'`), 'x').expect(error(NOT_INTEGER)),
    ],
  },
  {
    name: 'SCRIPT LOAD answers the SHA1, EVALSHA runs it by that SHA1 in either case, SCRIPT EXISTS sees it',
    steps: ({ key, tag }) => {
      const source = `return {KEYS[1], ARGV[1], '${tag}'}`;
      const other = `return '${tag}'`;
      return [
        send('script', 'EXISTS', sha1(source), sha1(other)).expect(reply([0, 0])),
        send('script', 'LOAD', source).expect(reply(sha1(source))),
        send('script', 'exists', sha1(source), sha1(other)).expect(reply([1, 0])),
        send('evalsha', sha1(source), 1, key('a'), 'x').expect(reply([key('a'), 'x', tag])),
        send('evalsha', sha1(source).toUpperCase(), 1, key('a'), 'y').expect(reply([key('a'), 'y', tag])),
        send('script', 'FOO').expect(error("ERR unknown subcommand 'FOO'. Try SCRIPT HELP.")),
        send('script', 'FLUSH', 'NOW').expect(error('ERR SCRIPT FLUSH only support SYNC|ASYNC option')),
      ];
    },
  },
  {
    name: 'defineCommand: a fixed key count or one per call; the same reply on first use and after',
    steps: ({ key, tag }) => {
      const failing = { lua: `-- ${tag}\nreturn redis.call('incr', KEYS[1])`, numberOfKeys: 1 };
      return [
        { setup: 'defineCommand echoKey', run: (client) => client.defineCommand('echoKey', echoKey(tag)) },
        send('echoKey', key('a'), 'x').expect(reply([key('a'), 'x', tag])),
        send('echoKey', key('a'), 'y').expect(reply([key('a'), 'y', tag])),
        {
          setup: 'defineCommand echoAny',
          run: (client) => client.defineCommand('echoAny', { lua: `return {#KEYS, #ARGV, '${tag}'}` }),
        },
        send('echoAny', 2, key('a'), key('b'), 'x').expect(reply([2, 1, tag])),
        send('echoAny', 0, 'x', 'y').expect(reply([0, 2, tag])),
        { setup: 'defineCommand failing', run: (client) => client.defineCommand('failing', failing) },
        send('set', key('c'), 'abc').expect(reply('OK')),
        send('failing', key('c')).expect(error(scriptError(NOT_INTEGER, failing.lua, 2))),
      ];
    },
  },
];

const libraryCases: ConformanceCase[] = [
  {
    name: "redlock 5's acquire, extend and release scripts, on one resource and on two",
    steps: ({ key }) => {
      const [a, b, c] = [key('a'), key('b'), key('c')];
      const { acquireScript, extendScript, releaseScript } = redlock5;
      return [
        {
          setup: 'defineCommand acquire',
          run: (client) => client.defineCommand('acquire', { lua: acquireScript.value }),
        },
        { setup: 'defineCommand extend', run: (client) => client.defineCommand('extend', { lua: extendScript.value }) },
        {
          setup: 'defineCommand release',
          run: (client) => client.defineCommand('release', { lua: releaseScript.value }),
        },
        send('acquire', 2, a, b, 'v1', 10_000).expect(reply(2)),
        send('acquire', 1, a, 'v2', 10_000).expect(reply(0)),
        send('pttl', a).expect(between(9000, 10_000)),
        send('extend', 2, a, b, 'v2', 20_000).expect(reply(0)),
        send('extend', 2, a, b, 'v1', 20_000).expect(reply(2)),
        send('pttl', b).expect(between(19_000, 20_000)),
        send('release', 2, a, b, 'v2').expect(reply(0)),
        send('release', 2, a, b, 'v1').expect(reply(2)),
        send('exists', a, b).expect(reply(0)),
        // As redlock itself sends it: keys and arguments in one array.
        send('eval', acquireScript.value, 1, [c, 'v3', 10_000]).expect(reply(1)),
        send('evalsha', sha1(releaseScript.value), 1, [c, 'v3']).expect(reply(1)),
      ];
    },
  },
  {
    name: "redis-semaphore's mutex: SET PX NX to acquire, its refresh and release scripts (EVALSHA, EVAL on NOSCRIPT)",
    steps: ({ key }) => {
      const a = key('a');
      return [
        send('set', a, 'id-1', 'PX', 10_000, 'NX').expect(reply('OK')),
        send('set', a, 'id-2', 'PX', 10_000, 'NX').expect(reply(null)),
        {
          library: 'expireIfEqualLua(other)',
          run: (client) => semaphoreRefresh.expireIfEqualLua(client, [a, 'id-2', 20_000]),
          expect: reply(0),
        },
        {
          library: 'expireIfEqualLua(holder)',
          run: (client) => semaphoreRefresh.expireIfEqualLua(client, [a, 'id-1', 20_000]),
          expect: reply(1),
        },
        send('pttl', a).expect(between(19_000, 20_000)),
        {
          library: 'delIfEqualLua(other)',
          run: (client) => semaphoreRelease.delIfEqualLua(client, [a, 'id-2']),
          expect: reply(0),
        },
        {
          library: 'delIfEqualLua(holder)',
          run: (client) => semaphoreRelease.delIfEqualLua(client, [a, 'id-1']),
          expect: reply(1),
        },
        send('exists', a).expect(reply(0)),
      ];
    },
  },
  {
    name: "@sesamecare-oss/redlock's scripts, defined by its own ensureCommands, SELECT by redis.pcall first",
    steps: ({ key }) => {
      const [a, b] = [key('a'), key('b')];
      return [
        { setup: 'ensureCommands', run: (client) => sesamecare.ensureCommands(client) },
        send('acquireLock', 2, a, b, 0, 'v1', 10_000).expect(reply(2)),
        send('acquireLock', 1, a, 0, 'v2', 10_000).expect(reply(0)),
        send('extendLock', 1, a, 0, 'v2', 20_000).expect(reply(0)),
        send('extendLock', 2, a, b, 0, 'v1', 20_000).expect(reply(2)),
        send('pttl', a).expect(between(19_000, 20_000)),
        send('releaseLock', 1, a, 0, 'v2').expect(reply(0)),
        send('releaseLock', 2, a, b, 0, 'v1').expect(reply(2)),
        send('get', a).expect(reply(null)),
      ];
    },
  },
];

export const IOREDIS_CASES: readonly ConformanceCase[] = [
  ...setCases,
  ...keyCases,
  ...counterCases,
  ...protocolCases,
  ...evalCases,
  ...libraryCases,
];

/** Run one case's steps on `client`, asserting each reply or error as it comes. */
export async function runCase(
  client: ConformanceClient,
  testCase: ConformanceCase,
  ns: Namespace,
  world: CaseWorld,
): Promise<void> {
  const steps = testCase.steps({ ...ns, nowMs: world.nowMs() });
  for (const [i, step] of steps.entries()) {
    if ('sleepMs' in step) {
      await world.sleep(step.sleepMs);
      continue;
    }
    if ('setup' in step) {
      step.run(client);
      continue;
    }
    const where = `step ${i + 1}, ${'send' in step ? `${step.send}(${step.args.map(show).join(', ')})` : step.library}`;
    const outcome = await settle('send' in step ? sendStep(client, step) : step.run(client));
    check(where, outcome, step.expect);
  }
}

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

async function settle(promise: Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

function sendStep(client: ConformanceClient, step: Extract<Step, { send: string }>): Promise<unknown> {
  const method = (client as unknown as Record<string, unknown>)[step.send];
  if (typeof method !== 'function') throw new Error(`the client has no method ${step.send}`);
  const invoke = method as (...args: unknown[]) => unknown;
  if (step.callback !== true) return invoke.apply(client, [...step.args]) as Promise<unknown>;
  return new Promise((resolve, reject) => {
    invoke.apply(client, [
      ...step.args,
      (failure: unknown, value: unknown) => {
        // ioredis calls back with exactly null, not undefined, when the command succeeded.
        if (failure === null) resolve(value);
        else reject(failure instanceof Error ? failure : new Error(`callback got ${describeError(failure)}`));
      },
    ]);
  });
}

function check(where: string, outcome: Outcome, expect: Expect): void {
  if ('reply' in expect || 'between' in expect) {
    if (!outcome.ok) assert.fail(`${where}: expected a reply, got ${describeError(outcome.error)}`);
    if ('reply' in expect) assert.deepStrictEqual(observed(outcome.value), expect.reply, where);
    else {
      const [min, max] = expect.between;
      const value = outcome.value;
      assert.ok(
        typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max,
        `${where}: expected an integer in [${min}, ${max}], got ${JSON.stringify(value)}`,
      );
    }
    return;
  }
  if (outcome.ok) assert.fail(`${where}: expected an error, got the reply ${JSON.stringify(observed(outcome.value))}`);
  const failure = outcome.error;
  assert.ok(failure instanceof ReplyError, `${where}: expected ioredis's ReplyError, got ${describeError(failure)}`);
  const message = (failure as Error).message;
  if ('error' in expect) assert.equal(message, expect.error, where);
  else {
    const [prefix, suffix] = expect.errorAround;
    assert.ok(
      message.startsWith(prefix) && message.endsWith(suffix),
      `${where}: expected a message starting ${JSON.stringify(prefix)} and ending ${JSON.stringify(suffix)}, got ${JSON.stringify(message)}`,
    );
  }
}

/** A reply as the expectations write it: an error inside an array as `{ replyError: message }`. */
function observed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(observed);
  if (value instanceof ReplyError) return { replyError: (value as Error).message };
  return value;
}

function describeError(failure: unknown): string {
  return failure instanceof Error ? `${failure.constructor.name}: ${failure.message}` : String(failure);
}

/** An argument as a step's name shows it: long ones (scripts) cut short. */
function show(arg: unknown): string {
  const text = arg === undefined ? 'undefined' : JSON.stringify(arg);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
