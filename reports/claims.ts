/**
 * What the usual "RedLock vs ZooKeeper vs etcd vs DB locks" comparison says about each mechanism,
 * and what each costs to run. The claims sit beside the measurements in the report, which flags
 * every measurement that contradicts them; they are never used to decide a verdict.
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
  },
  {
    system: 'mysql',
    name: 'MySQL GET_LOCK',
    servers: 1,
    roundTrips: { unfenced: '1 (GET_LOCK)', fenced: '2 (+ counter row)' },
    bestFor: 'jobs that already live in the database and can fence their writes in the same database',
    claimed: { consistency: 'strong', speed: 'low' },
  },
  {
    system: 'node-redlock',
    name: 'node-redlock (the redlock npm package), live only',
    servers: 5,
    roundTrips: { unfenced: '1 (a script on 5 nodes in parallel)', fenced: 'no token' },
    bestFor: "what a Node service deploys as RedLock: measured beside lockstep's own RedLock",
  },
  {
    system: 'etcd3-lock',
    name: 'etcd3 package Lock / Election, live only',
    servers: 3,
    roundTrips: { unfenced: '2 (lease, txn)', fenced: 'no token exposed' },
    bestFor: "what a Node service deploys on etcd: measured beside lockstep's own etcd recipe",
  },
];

export function mechanism(system: string): Mechanism {
  return (
    MECHANISMS.find((m) => m.system === system) ?? {
      system,
      name: system,
      servers: 0,
      roundTrips: { unfenced: '?', fenced: '?' },
      bestFor: '',
    }
  );
}
