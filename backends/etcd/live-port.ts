/**
 * EtcdPort on a real etcd cluster through the etcd3 package's raw gRPC clients, one client per
 * member. Like the simulated port it talks to one member at a time and moves to the next when a
 * request's outcome is unknown (timeout, dropped connection, no leader), as clientv3's balancer
 * leaves a failing endpoint.
 *
 * etcd3's own fault handling is switched off: by default it retries every "recoverable" error
 * (timeouts and dropped connections included) up to three times on other members, which would
 * hide timeouts and silently repeat non-idempotent writes, and its circuit breakers would refuse
 * calls a recipe asked for. Each call here is sent once, with a deadline of the request timeout,
 * and its failure is reported as the port's errors: TimeoutError (no answer in time),
 * ConnectionLost (the connection dropped or was refused), Unavailable (etcd answered that it has
 * no leader or lost track of the request: it may still commit), LeaseNotFound, Compacted.
 *
 * Unlike the simulated member, which refuses at once when it knows no leader, etcd 3.4 holds a
 * request on a member cut off from the quorum until its own timeout (about 5 s for a write, 10 s
 * for a linearizable read): with the recipes' short request timeouts that is a TimeoutError.
 *
 * Lease ids are chosen by the client (LeaseGrant's ID field) below 2^48: etcd's own ids are 64-bit
 * and would not survive the port's plain numbers.
 */
import { randomInt } from 'node:crypto';
import {
  Etcd3,
  EtcdLeaseInvalidError,
  FilterType,
  GRPCCancelledError,
  GRPCDeadlineExceededError,
  GRPCInternalError,
  GRPCResourceExhastedError,
  GRPCUnavailableError,
  GRPCUnknownError,
  SortOrder,
  SortTarget,
  type IDuplexStream,
  type IKeyValue,
  type ILeaseKeepAliveResponse,
  type IOptions,
  type IWatchResponse,
} from 'etcd3';
import { ConnectionLost, TimeoutError } from '../errors.ts';
import {
  Compacted,
  LeaseNotFound,
  Unavailable,
  type EtcdPort,
  type KeyValue,
  type Lease,
  type PutIfAbsentResult,
  type RangeOptions,
  type RangeResult,
} from './port.ts';

type Policy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;
type CallOptions = NonNullable<Parameters<Etcd3['kv']['range']>[1]>;

/**
 * A fault-handling policy that runs a call once and lets its error through: no retry, no circuit
 * breaker. (cockatiel's `noop`, built here because cockatiel is etcd3's dependency, not ours.)
 */
const ONCE = {
  execute: <T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T) =>
    Promise.resolve().then(() => fn({ signal: new AbortController().signal })),
} as unknown as Policy;

const LEASE_ID_LIMIT = 2 ** 48;
const LEASE_GRANT_ATTEMPTS = 3;

/** An etcd3 client of one member that sends each call once and never retries or fails over by itself. */
export function etcdClient(host: string, port: number): Etcd3 {
  return new Etcd3({ hosts: `http://${host}:${port}`, faultHandling: { host: () => ONCE, global: ONCE } });
}

export class LiveEtcdPort implements EtcdPort {
  private current: number;

  /** `clients`: one etcdClient per member, in order; requests not answered in `requestTimeoutMs` time out. */
  constructor(
    private readonly clients: readonly Etcd3[],
    private readonly requestTimeoutMs: number,
  ) {
    if (clients.length === 0) throw new Error('LiveEtcdPort needs at least one member');
    this.current = randomInt(0, clients.length);
  }

  /** The index of the member this port talks to now. */
  get member(): number {
    return this.current;
  }

  async grantLease(ttlMs: number): Promise<Lease> {
    const ttlSeconds = Math.max(1, Math.ceil(ttlMs / 1000));
    for (let attempt = 1; ; attempt++) {
      const id = randomInt(1, LEASE_ID_LIMIT);
      try {
        const granted = await this.call((client, options) =>
          client.leaseClient.leaseGrant({ TTL: ttlSeconds, ID: id }, options),
        );
        if (granted.error !== '') throw new Error(`etcd: lease grant refused: ${granted.error}`);
        return { id: Number(granted.ID), ttlMs: Number(granted.TTL) * 1000 };
      } catch (error) {
        // Another client picked the same id: nothing was granted, so another id is safe to ask for.
        if (attempt < LEASE_GRANT_ATTEMPTS && /lease already exists/.test((error as Error).message)) continue;
        throw error;
      }
    }
  }

  /**
   * A keepalive that times out leaves this port on its member, as the simulated port does and as
   * clientv3's keepalive stream stays on a stopped (SIGSTOPped) member whose kernel still takes
   * the bytes; a reset connection or an unavailable member moves it, as for every call.
   */
  async keepAlive(lease: number): Promise<number | null> {
    const answer = await this.call(
      async (client) => {
        const stream = await client.leaseClient.leaseKeepAlive();
        const response = await once<ILeaseKeepAliveResponse, ILeaseKeepAliveResponse>(
          stream,
          this.requestTimeoutMs,
          (item, settle) => settle(item),
          () => stream.write({ ID: lease }),
        );
        if (response === null)
          throw new TimeoutError(`etcd: keepalive of lease ${lease} not answered within ${this.requestTimeoutMs} ms`);
        return response;
      },
      { stayOnTimeout: true },
    );
    // etcd answers a keepalive of an unknown lease with TTL 0, not with an error.
    return answer.TTL === '0' ? null : Number(answer.TTL) * 1000;
  }

  async revokeLease(lease: number): Promise<boolean> {
    try {
      await this.call((client, options) => client.leaseClient.leaseRevoke({ ID: lease }, options));
      return true;
    } catch (error) {
      if (error instanceof LeaseNotFound) return false;
      throw error;
    }
  }

  async putIfAbsent(key: string, value: string, lease: number): Promise<PutIfAbsentResult> {
    const name = Buffer.from(key);
    const result = await this.call((client, options) =>
      client.kv.txn(
        {
          compare: [{ key: name, target: 'Create', result: 'Equal', create_revision: 0 }],
          success: [{ request_put: { key: name, value: Buffer.from(value), lease } }],
          failure: [{ request_range: { key: name } }],
        },
        options,
      ),
    );
    const revision = Number(result.header.revision);
    if (result.succeeded) return { created: true, createRevision: revision, revision };
    const existing = result.responses[0]?.response_range.kvs[0];
    if (existing === undefined)
      throw new Error(`etcd: txn on ${key} failed its create-revision compare but read no key`);
    return { created: false, createRevision: Number(existing.create_revision), revision };
  }

  async get(key: string): Promise<KeyValue | null> {
    const result = await this.call((client, options) => client.kv.range({ key: Buffer.from(key) }, options));
    const kv = result.kvs[0];
    return kv === undefined ? null : keyValue(kv);
  }

  async range(prefix: string, options: RangeOptions = {}): Promise<RangeResult> {
    const start = Buffer.from(prefix);
    const result = await this.call((client, callOptions) =>
      client.kv.range(
        {
          key: start,
          range_end: prefixEnd(start),
          sort_order: SortOrder.Ascend,
          sort_target: SortTarget.Create,
          max_create_revision: options.maxCreateRevision ?? 0,
        },
        callOptions,
      ),
    );
    return { kvs: result.kvs.map(keyValue), revision: Number(result.header.revision) };
  }

  async delete(key: string): Promise<boolean> {
    const result = await this.call((client, options) => client.kv.deleteRange({ key: Buffer.from(key) }, options));
    return Number(result.deleted) > 0;
  }

  async watchDelete(key: string, fromRevision: number, timeoutMs: number): Promise<number | null> {
    // The request timeout bounds only setting the watch up; the wait itself is bounded by `timeoutMs`.
    return this.call(async (client) => {
      const stream = await client.watchClient.watch();
      const request = {
        create_request: { key: Buffer.from(key), start_revision: fromRevision, filters: [FilterType.Noput] },
      };
      return once<number, IWatchResponse>(
        stream,
        timeoutMs,
        (response: IWatchResponse, settle, fail) => {
          if (response.canceled) {
            const compacted = response.compact_revision !== '0';
            fail(
              compacted
                ? new Compacted(
                    `etcd: watch of ${key} from ${fromRevision} is compacted (at ${response.compact_revision})`,
                  )
                : new Unavailable(`etcd: watch canceled: ${response.cancel_reason}`),
            );
            return;
          }
          const deleted = response.events.find((event) => event.type === 'Delete');
          if (deleted !== undefined) settle(Number(deleted.kv.mod_revision));
        },
        () => stream.write(request),
      );
    });
  }

  /** Close every member's connections. */
  close(): void {
    for (const client of this.clients) client.close();
  }

  /** Run one call on the current member, with the request deadline; leave the member if its outcome is unknown. */
  private async call<T>(
    run: (client: Etcd3, options: CallOptions) => Promise<T>,
    { stayOnTimeout = false } = {},
  ): Promise<T> {
    const member = this.current;
    const client = this.clients[member];
    if (client === undefined) throw new Error(`etcd: no client for member ${member}`);
    try {
      return await run(client, { deadline: Date.now() + this.requestTimeoutMs });
    } catch (error) {
      const typed = typedError(error);
      const timedOut = typed instanceof TimeoutError;
      if ((timedOut && !stayOnTimeout) || typed instanceof ConnectionLost || typed instanceof Unavailable)
        this.leave(member);
      throw typed;
    }
  }

  /** Stop using `member`, unless an earlier failure already moved this port on. */
  private leave(member: number): void {
    if (this.current === member) this.current = (this.current + 1) % this.clients.length;
  }
}

/**
 * Open a gRPC duplex exchange (`send`), hand each answer to `onData` until it settles, and close
 * the stream: null once `waitMs` passes unanswered. The write side is ended before the cancel, so
 * that etcd3 does not take the cancel for a failure of the member and drop its connection.
 */
function once<T, Answer>(
  stream: IDuplexStream<unknown, Answer>,
  waitMs: number,
  onData: (item: Answer, settle: (value: T) => void, fail: (error: Error) => void) => void,
  send: () => void,
): Promise<T | null> {
  return new Promise<T | null>((resolve, reject) => {
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stream.end();
      stream.cancel();
      outcome();
    };
    const timer = setTimeout(() => finish(() => resolve(null)), waitMs);
    stream.on('data', (item) =>
      onData(
        item,
        (value) => finish(() => resolve(value)),
        (error) => finish(() => reject(error)),
      ),
    );
    stream.on('error', (error) => finish(() => reject(error)));
    stream.on('end', () => finish(() => reject(new ConnectionLost('etcd: the stream ended before it answered'))));
    send();
  });
}

/** The port's error for what etcd3 threw. */
function typedError(error: unknown): Error {
  if (!(error instanceof Error)) return new Error(String(error));
  const message = error.message;
  if (error instanceof EtcdLeaseInvalidError || /requested lease not found/.test(message))
    return new LeaseNotFound(`etcd: ${message}`);
  if (/required revision has been compacted/.test(message)) return new Compacted(`etcd: ${message}`);
  if (error instanceof GRPCDeadlineExceededError) return new TimeoutError(`etcd: ${message}`);
  const fromServer = /etcdserver:/.test(message);
  if ((error instanceof GRPCUnavailableError || error instanceof GRPCResourceExhastedError) && fromServer)
    return new Unavailable(`etcd: ${message}`);
  // A member without a leader holds a write until its own proposal timeout, then answers this.
  if (error instanceof GRPCUnknownError && /context deadline exceeded/.test(message))
    return new Unavailable(`etcd: ${message}`);
  if (
    error instanceof GRPCUnavailableError ||
    error instanceof GRPCCancelledError ||
    error instanceof GRPCInternalError
  )
    return new ConnectionLost(`etcd: ${message}`);
  return error;
}

function keyValue(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString(),
    value: kv.value.toString(),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
    lease: Number(kv.lease),
  };
}

/** The end of the key range holding every key that starts with `prefix` (clientv3 GetPrefixRangeEnd). */
function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- i counts down from length - 1 to 0
    const byte = end[i]!;
    if (byte < 0xff) {
      end[i] = byte + 1;
      return end.subarray(0, i + 1);
    }
  }
  // All 0xff (or empty): every key from the prefix on.
  return Buffer.from([0]);
}
