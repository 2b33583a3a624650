/**
 * What the usual "RedLock vs ZooKeeper vs etcd vs DB locks" comparison says about each mechanism,
 * and what each costs to run. The claims sit beside the measurements in the report, which flags
 * every measurement that contradicts them (judgeConsistency states the rules); they are never used
 * to decide a verdict.
 */
export type Level = 'strong' | 'medium' | 'high' | 'low';

export interface Mechanism {
  readonly system: string;
  readonly name: string;
  /** Servers a deployment needs, as the simulator runs it. */
  readonly servers: number;
  /** Network round trips of one uncontended acquire, unfenced and fenced, from the recipe. */
  readonly roundTrips: { readonly unfenced: string; readonly fenced: string };
  readonly bestFor: string;
  /** The usual table's claims; absent where it makes none (it has no row for a single Redis). */
  readonly claimed?: { readonly consistency: Level; readonly speed: Level };
  /**
   * The simulator model several systems share, where they share one: their simulated figures then
   * come from the same code, and the report says so instead of presenting them as two findings.
   */
  readonly simModel?: string;
}

export const MECHANISMS: readonly Mechanism[] = [
  {
    system: 'redis',
    name: 'Redis (single node)',
    servers: 1,
    roundTrips: { unfenced: '1 (SET NX PX)', fenced: '2 (+ INCR)' },
    bestFor: 'efficiency locks, where a rare double grant costs duplicate work, not corruption',
  },
  {
    system: 'redlock',
    name: 'RedLock',
    servers: 5,
    roundTrips: { unfenced: '1 (SET on 5 nodes in parallel)', fenced: '2 (+ INCR on the majority); no sound token' },
    bestFor: 'efficiency locks that must survive a Redis node failing',
    claimed: { consistency: 'medium', speed: 'high' },
  },
  {
    system: 'zookeeper',
    name: 'ZooKeeper',
    servers: 3,
    roundTrips: { unfenced: '3 (session, create, children)', fenced: '3 (czxid comes with the create)' },
    bestFor: 'correctness locks and leader election, with the znode czxid as fencing token',
    claimed: { consistency: 'strong', speed: 'medium' },
  },
  {
    system: 'etcd',
    name: 'etcd',
    servers: 3,
    roundTrips: { unfenced: '3 (lease, txn, range)', fenced: '3 (the create revision comes with the txn)' },
    bestFor: 'correctness locks and leader election in Kubernetes-style control planes, fenced by revision',
    claimed: { consistency: 'strong', speed: 'medium' },
  },
  {
    system: 'postgres',
    name: 'PostgreSQL advisory lock',
    servers: 1,
    roundTrips: { unfenced: '1 (pg_advisory_lock)', fenced: '2 (+ nextval)' },
    bestFor: 'jobs that already live in the database and can fence their writes in the same database',
    claimed: { consistency: 'strong', speed: 'low' },
    simModel: 'backends/shared/dbsession',
  },
  {
    system: 'mysql',
    name: 'MySQL GET_LOCK',
    servers: 1,
    roundTrips: { unfenced: '1 (GET_LOCK)', fenced: '2 (+ counter row)' },
    bestFor: 'jobs that already live in the database and can fence their writes in the same database',
    claimed: { consistency: 'strong', speed: 'low' },
    simModel: 'backends/shared/dbsession',
  },
  {
    system: 'redis-sentinel',
    name: 'Redis with replicas and Sentinel',
    servers: 6,
    roundTrips: {
      unfenced: '1 (SET NX PX on the primary; more to find the primary after a failover)',
      fenced: '2 (+ INCR on the primary); no sound token: a failover can roll the counter back',
    },
    bestFor:
      'efficiency locks on the Redis most teams already run; the single-Redis lock with failover, and its lost grants',
  },
  // Built-in subjects: lock libraries as deployed, run unmodified in both worlds (etcd3-lock live only).
  {
    system: 'node-redlock',
    name: 'node-redlock (redlock 5.0.0-beta.2)',
    servers: 5,
    roundTrips: { unfenced: '1 (a script on 5 nodes, done at a quorum; no validity check after)', fenced: 'no token' },
    bestFor: "what a Node service deploys as RedLock: measured beside lockstep's own RedLock",
  },
  {
    system: 'sesamecare-redlock',
    name: '@sesamecare-oss/redlock 1.4.0 (the maintained redlock 5 fork)',
    servers: 5,
    roundTrips: { unfenced: '1 (a script on 5 nodes, done at a quorum; no validity check after)', fenced: 'no token' },
    bestFor: "what a Node service moving off redlock 5 deploys: measured beside lockstep's own RedLock",
  },
  {
    system: 'redlock-v4',
    name: 'redlock 4.2.0 (npm latest)',
    servers: 5,
    roundTrips: {
      unfenced: '1 (a script on all 5 nodes, waiting for every answer; validity checked)',
      fenced: 'no token',
    },
    bestFor: "the RedLock most Node services run: measured beside lockstep's own RedLock",
  },
  {
    system: 'redis-semaphore',
    name: 'redis-semaphore Mutex 5.8.0',
    servers: 1,
    roundTrips: { unfenced: '1 (SET NX PX; refreshed every 0.8 of the lease)', fenced: 'no token' },
    bestFor: "a single-Redis mutex that keeps its lease alive: measured beside lockstep's own Redis lock",
  },
  {
    system: 'redis-semaphore-redlock',
    name: 'redis-semaphore RedlockMutex 5.8.0',
    servers: 5,
    roundTrips: { unfenced: '1 (SET NX PX on 5 nodes, waiting for every answer; refreshed)', fenced: 'no token' },
    bestFor: "a RedLock mutex that keeps its lease alive: measured beside lockstep's own RedLock",
  },
  {
    system: 'etcd3-lock',
    name: 'etcd3 package Lock / Election 1.1.2, live only',
    servers: 3,
    roundTrips: { unfenced: '2 (lease, txn)', fenced: 'no token exposed' },
    bestFor: "what a Node service deploys on etcd: measured beside lockstep's own etcd recipe",
  },
];

export function mechanism(system: string): Mechanism {
  return (
    // A subject of the user's own: its runs say what it does.
    MECHANISMS.find((m) => m.system === system) ?? {
      system,
      name: `${system} (a subject under test)`,
      servers: 0,
      roundTrips: { unfenced: '-', fenced: '-' },
      bestFor: '',
    }
  );
}

/** What a system's runs showed, for judging its consistency claim; scenarios are labelled with their mode. */
export interface ConsistencyEvidence {
  readonly claimed?: { readonly consistency: Level };
  /** False when the system's fencing token is not sound (results' fencingSound), as RedLock's is not. */
  readonly tokenSound: boolean;
  readonly unsafeUnfenced: readonly string[];
  readonly unsafeFenced: readonly string[];
  /** Scenarios with at least one fenced run judged safe or unsafe. */
  readonly judgedFenced: readonly string[];
}

/** The rules judgeConsistency applies, in words, for the page to state beside the flags. */
export const CONSISTENCY_RULES =
  'A claim of strong consistency (made for the coordination services and the databases) is judged by the fenced runs: ' +
  'an unsafe fenced run contradicts it, an unsafe unfenced run does not, since no lease-based lock is safe without fencing. ' +
  'Unsafe unfenced runs are stated the same way for every mechanism, as a note, not a contradiction. ' +
  'A mechanism whose token is not sound (RedLock) has no fenced result to lean on: ' +
  'a claim of medium consistency is contradicted by any unsafe run, fenced or not.';

/**
 * Contradictions of a mechanism's consistency claim, and neutral notes, from its runs: see
 * CONSISTENCY_RULES. Pure, so the rules are tested apart from any run directory.
 */
export function judgeConsistency(evidence: ConsistencyEvidence): {
  contradictions: string[];
  notes: string[];
} {
  const { claimed, tokenSound, unsafeUnfenced, unsafeFenced, judgedFenced } = evidence;
  const notes: string[] = [];
  const contradictions: string[] = [];
  if (unsafeUnfenced.length > 0)
    notes.push(
      `unsafe without fencing in ${unsafeUnfenced.join(', ')}: like every lease-based lock, its lease can run out while the holder still acts`,
    );
  if (!tokenSound) notes.push('its fencing token is not sound: no fenced run can show it safe');
  const level = claimed?.consistency;
  if (level === 'strong') {
    if (unsafeFenced.length > 0)
      contradictions.push(`claimed strong, but unsafe with fencing in ${unsafeFenced.join(', ')}`);
    else if (!tokenSound && unsafeUnfenced.length > 0)
      contradictions.push(`claimed strong, with no sound token, but unsafe in ${unsafeUnfenced.join(', ')}`);
    else if (judgedFenced.length === 0) notes.push('strong claim not tested: no fenced run was judged');
  }
  if (level === 'medium') {
    const unsafe = [
      ...unsafeUnfenced.map((s) => `${s} unfenced`),
      ...unsafeFenced.map((s) => `${s} fenced${tokenSound ? '' : ' (no sound token)'}`),
    ];
    if (unsafe.length > 0) contradictions.push(`claimed medium, but unsafe in ${unsafe.join(', ')}`);
  }
  return { contradictions, notes };
}
