/**
 * The space `lockstep check` searches: scenarios built by fast-check, each a valid scenario file
 * in waiting. Every number is a whole number and every bound keeps a run short, so thousands of
 * runs fit in minutes and a counterexample prints back as a scenario that replays exactly.
 *
 * Swarm testing (as in FoundationDB's and TigerBeetle's simulators): with `swarm`, each scenario
 * first switches whole fault kinds on or off, so rare combinations, and the absence of common
 * faults, come up far more often than independent draws would make them.
 */
import fc from 'fast-check';
import type { SystemId } from '../backends/recipe.ts';
import { scenarioSchema, type Scenario } from '../scenarios/schema.ts';
import { FAULT_KIND_NAMES, FAULT_KINDS } from '../faults/index.ts';
import type { Draws } from '../faults/kind.ts';

export interface SearchSpace {
  readonly system: SystemId;
  readonly fencing: boolean;
  readonly servers: number;
  readonly hasLeader: boolean;
  /** Sentinels beside the servers (redis-sentinel), which faults may name too. */
  readonly sentinels: number;
  readonly durationMs: number;
  readonly swarm: boolean;
  /**
   * Whether a restart may come back without its disk. Redis runs without persistence by default,
   * so for redis and redlock it may; ZooKeeper, etcd and the databases fsync before they answer,
   * and losing their disk is outside what they promise, so for them a restart keeps it.
   */
  readonly diskless: boolean;
  /**
   * Whether faults may also wait for a client's attempt (`acquiring`) and hit that client: on in
   * searches of a subject, where what a library does with a slow acquisition is the question;
   * off for the systems' own recipes, whose searches (and the figures measured with them) keep
   * the space they had.
   */
  readonly acquiring?: boolean;
}

const MAX_FAULTS = 4;

/** Selectors that every run of this system can resolve: never a reason to skip. */
function selectors(space: SearchSpace): string[] {
  const servers = Array.from({ length: space.servers }, (_, i) => `server-${i + 1}`);
  const sentinels = Array.from({ length: space.sentinels }, (_, i) => `sentinel-${i + 1}`);
  return [
    'holder',
    'c1',
    'c2',
    'one',
    ...servers,
    ...sentinels,
    ...(space.hasLeader ? ['leader'] : []),
    ...(space.servers > 1 ? ['minority', 'majority'] : []),
  ];
}

/**
 * When a fault fires: at a time within the run, or a little after the nth grant; with
 * `acquiring`, also while c1 or c2 acquires (its nth attempt sent, the answers not yet in), which
 * is where a lock that does not check its validity after a slow acquisition goes wrong.
 */
function trigger(durationMs: number, acquiring: boolean): fc.Arbitrary<Record<string, unknown>> {
  const at = fc.integer({ min: 0, max: durationMs - 1 }).map((at) => ({ at }));
  const granted = fc
    .record({ nth: fc.integer({ min: 1, max: 6 }), waitMs: fc.integer({ min: 0, max: 300 }) })
    .map(({ nth, waitMs }) => ({ after: { event: 'acquired', nth, waitMs } }));
  if (!acquiring) return fc.oneof(at, granted);
  const attempt = fc
    .record({
      client: fc.constantFrom('c1', 'c2'),
      nth: fc.integer({ min: 1, max: 6 }),
      waitMs: fc.integer({ min: 0, max: 20 }),
    })
    .map(({ client, nth, waitMs }) => ({ after: { event: 'acquiring', client, nth, waitMs } }));
  return fc.oneof(at, granted, attempt);
}

/** One fault of `kind`: a trigger, then the kind's own fields as its module generates them. */
export function faultArbitrary(
  kind: string,
  draws: Omit<Draws, 'forMs'>,
  durationMs: number,
  acquiring = false,
): fc.Arbitrary<Record<string, unknown>> {
  const forMs =
    draws.span === undefined ? fc.integer({ min: 100, max: 4 * draws.ttlMs }) : draws.span(10, 4 * draws.ttlMs);
  const faultKind = FAULT_KINDS.find((k) => k.name === kind);
  if (faultKind === undefined) throw new Error(`search: no fault kind named ${kind}`);
  // A fault that waits for a client's attempt hits that client (a pause mid-acquisition);
  // any other draws whom it hits.
  return trigger(durationMs, acquiring).chain((when) => {
    const after = when.after as { event?: string; client?: string } | undefined;
    const who = after?.event === 'acquiring' && after.client !== undefined ? fc.constant(after.client) : draws.who;
    return faultKind.arbitrary({ ...draws, who, forMs }).map((what) => ({ ...when, ...what }));
  });
}

function faultOf(kind: string, space: SearchSpace, ttlMs: number): fc.Arbitrary<Record<string, unknown>> {
  return faultArbitrary(
    kind,
    { who: fc.constantFrom(...selectors(space)), ttlMs, servers: space.servers, diskless: space.diskless },
    space.durationMs,
    space.acquiring === true,
  );
}

/** Scenarios for one system and fencing setting; each parses with the scenario schema. */
export function scenarioArbitrary(space: SearchSpace): fc.Arbitrary<Scenario> {
  const kinds = space.swarm ? fc.subarray([...FAULT_KIND_NAMES], { minLength: 1 }) : fc.constant([...FAULT_KIND_NAMES]);
  return fc
    .record({
      kinds,
      clients: fc.integer({ min: 2, max: 5 }),
      ttlMs: fc.integer({ min: 300, max: 3000 }),
      // Holds stay within a quarter of the lease: a hold near the TTL breaks every lease-based
      // lock with no fault at all, a misconfiguration rather than a finding about faults.
      holdFraction: fc.integer({ min: 0, max: 25 }),
      thinkMs: fc.integer({ min: 0, max: 200 }),
      latencyMin: fc.integer({ min: 1, max: 5 }),
      latencySpread: fc.integer({ min: 0, max: 20 }),
    })
    .chain((shape) =>
      fc
        .array(
          fc.constantFrom(...shape.kinds).chain((kind) => faultOf(kind, space, shape.ttlMs)),
          { maxLength: MAX_FAULTS },
        )
        .map((faults) => ({ shape, faults })),
    )
    .map(({ shape, faults }) =>
      scenarioSchema.parse({
        name: 'counterexample',
        description: 'generated by lockstep check',
        workload: 'mutex',
        systems: [space.system],
        fencing: space.fencing ? 'on' : 'off',
        clients: shape.clients,
        durationMs: space.durationMs,
        lock: {
          ttlMs: shape.ttlMs,
          holdMs: Math.round((shape.ttlMs * shape.holdFraction) / 100),
          thinkMs: shape.thinkMs,
        },
        network: { latencyMs: { min: shape.latencyMin, max: shape.latencyMin + shape.latencySpread } },
        faults,
      }),
    );
}
