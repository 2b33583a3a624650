/**
 * From scenario faults to actions on a world: resolve selectors to nodes, fire at a time or just
 * after an event, and heal after `forMs`. Selectors resolve when the fault fires, so `holder` and
 * `leader` mean whoever holds or leads at that moment.
 *
 * A fault that cannot apply to a system (server-4 of a one-server system, the leader of RedLock's
 * independent nodes) skips the whole run, with the reason; it is never silently dropped. A dynamic
 * selector that finds nobody when it fires (no holder at that instant) does nothing, and the run's
 * notes say so.
 */
import type { Fault } from '../scenarios/schema.ts';
import { selectorsOf } from '../scenarios/schema.ts';
import type { PartitionMode } from '../sim/network.ts';

/** The verbs a world offers for faults. The simulator implements them; so will the live harness. */
export interface FaultTarget {
  readonly nowMs: number;
  pause(node: string): void;
  resume(node: string): void;
  crash(node: string): void;
  restart(node: string, persist: boolean): void;
  isCrashed(node: string): boolean;
  isPaused(node: string): boolean;
  partition(from: string, to: string, mode: PartitionMode): void;
  heal(from: string, to: string): void;
  delay(from: string, to: string, extraMs: number): void;
  loss(from: string, to: string, probability: number): void;
  jumpClock(node: string, deltaMs: number): void;
  setDrift(node: string, driftPpm: number): void;
  /** Run `fire` at true time `atMs`, as a harness event. */
  at(atMs: number, fire: () => void): void;
}

/** Who is who in a run, as the selectors see it. */
export interface Cast {
  readonly servers: readonly string[];
  readonly clients: readonly string[];
  /** Every node of the run, servers, clients and the register. */
  readonly nodes: readonly string[];
  holder(): string | null;
  /** The system's leader; undefined when the system has no such thing. */
  leader(): string | null | undefined;
  /** A uniformly random pick, from the run's own seeded stream. */
  pick<T>(items: readonly T[]): T;
  /** Call `fire(process)` just after the nth grant (acquire or election) by a process accepted by `who`. */
  afterGrant(nth: number, who: (process: string) => boolean, fire: () => void): void;
}


export function majorityOf(servers: readonly string[]): string[] {
  return servers.slice(0, Math.floor(servers.length / 2) + 1);
}

/** The shape of a system, as far as selectors care. */
export interface Topology {
  readonly servers: number;
  readonly hasLeader: boolean;
}

/** Why these faults cannot apply to a system of this shape (the run is then skipped), or null. */
export function whyNot(faults: readonly Fault[], topology: Topology): string | null {
  for (const fault of faults) {
    const reason = cannotApply(fault, topology);
    if (reason !== null) return reason;
  }
  return null;
}

/** Told when fault `index` (0-based, in scenario order) starts hitting and when it heals. */
export type FaultLog = (phase: 'start' | 'end', index: number, what: string) => void;

/**
 * Schedule the faults on `target`. Check them with whyNot first. `notes` collects what a reader
 * should know: faults that found nobody to hit when they fired. `log` hears every start and heal,
 * so that reports can draw fault windows.
 */
export function planFaults(faults: readonly Fault[], target: FaultTarget, cast: Cast, notes: string[], log: FaultLog = () => {}): void {
  faults.forEach((fault, i) => {
    const fire = () => apply(fault, i, target, cast, notes, log);
    if (fault.at !== undefined) {
      target.at(fault.at, fire);
    } else if (fault.after !== undefined) {
      const { client: who, nth, waitMs } = fault.after;
      cast.afterGrant(nth, (process) => who === undefined || resolve(who, cast).includes(process), () => target.at(target.nowMs + waitMs, fire));
    }
  });
}

function cannotApply(fault: Fault, topology: Topology): string | null {
  if (fault.partition?.halves === true || fault.partition?.bridge === true) {
    if (topology.servers < (fault.partition.bridge === true ? 3 : 2)) {
      return `a ${fault.partition.bridge === true ? 'bridge' : 'halves'} partition needs more servers than this system's ${topology.servers}`;
    }
  }
  for (const s of selectorsOf(fault)) {
    const server = /^server-(\d+)$/.exec(s);
    if (server !== null && Number(server[1]) > topology.servers) return `selector ${s}: this system has ${topology.servers} server(s)`;
    if (s === 'leader' && !topology.hasLeader) return 'selector leader: this system has no leader among its servers';
    if (s === 'minority' && topology.servers < 2) return 'selector minority: a single server has no minority';
  }
  return null;
}

/** The nodes a selector names right now. */
export function resolve(selector: string, cast: Cast): string[] {
  switch (selector) {
    case 'clients':
      return [...cast.clients];
    case 'servers':
      return [...cast.servers];
    case 'holder': {
      const holder = cast.holder();
      return holder === null ? [] : [holder];
    }
    case 'leader': {
      const leader = cast.leader();
      return leader === null || leader === undefined ? [] : [leader];
    }
    case 'majority':
      return majorityOf(cast.servers);
    case 'minority':
      return cast.servers.slice(majorityOf(cast.servers).length);
    case 'one':
      return [cast.pick(cast.servers)];
    default:
      return [selector];
  }
}

function apply(fault: Fault, index: number, target: FaultTarget, cast: Cast, notes: string[], log: FaultLog): void {
  let what = '';
  const heal = (undo: () => void) => {
    if (fault.forMs === undefined) return;
    target.at(target.nowMs + fault.forMs, () => {
      undo();
      log('end', index, what);
    });
  };
  const hit = (selector: string) => {
    const nodes = resolve(selector, cast);
    if (nodes.length === 0) notes.push(`fault ${index + 1} (${selector}) at ${target.nowMs}ms found no node to hit`);
    return nodes;
  };
  const started = (description: string) => {
    what = description;
    log('start', index, what);
  };
  if (fault.pause !== undefined) {
    const nodes = hit(fault.pause).filter((n) => !target.isPaused(n) && !target.isCrashed(n));
    nodes.forEach((n) => target.pause(n));
    started(`pause ${nodes.join(', ')}`);
    heal(() => nodes.forEach((n) => target.isPaused(n) && target.resume(n)));
  } else if (fault.crash !== undefined) {
    const nodes = hit(fault.crash).filter((n) => !target.isCrashed(n));
    nodes.forEach((n) => target.crash(n));
    started(`crash ${nodes.join(', ')}`);
    const restartAfterMs = fault.restartAfterMs;
    if (restartAfterMs !== undefined) {
      target.at(target.nowMs + restartAfterMs, () => {
        nodes.forEach((n) => target.isCrashed(n) && target.restart(n, fault.persist ?? false));
        log('end', index, what);
      });
    }
  } else if (fault.partition !== undefined) {
    const links = cutLinks(fault.partition, cast, hit);
    const mode = fault.mode ?? 'drop';
    links.forEach(([a, b]) => target.partition(a, b, mode));
    started(`partition ${describePartition(fault.partition)} (${mode})`);
    heal(() => links.forEach(([a, b]) => target.heal(a, b)));
  } else if (fault.delay !== undefined) {
    const nodes = hit(fault.delay);
    const links = touching(nodes, cast.nodes);
    links.forEach(([a, b]) => target.delay(a, b, fault.delayMs!));
    started(`delay ${nodes.join(', ')} +${fault.delayMs}ms`);
    heal(() => links.forEach(([a, b]) => target.delay(a, b, 0)));
  } else if (fault.loss !== undefined) {
    const nodes = hit(fault.loss);
    const links = touching(nodes, cast.nodes);
    links.forEach(([a, b]) => target.loss(a, b, fault.probability!));
    started(`loss ${nodes.join(', ')} ${fault.probability}`);
    heal(() => links.forEach(([a, b]) => target.loss(a, b, 0)));
  } else if (fault.clock !== undefined) {
    const nodes = hit(fault.clock);
    if (fault.jumpMs !== undefined) {
      nodes.forEach((n) => target.jumpClock(n, fault.jumpMs!));
      started(`clock ${nodes.join(', ')} jumps ${fault.jumpMs}ms`);
      log('end', index, what);
    } else {
      nodes.forEach((n) => target.setDrift(n, fault.driftPpm!));
      started(`clock ${nodes.join(', ')} drifts ${fault.driftPpm}ppm`);
      heal(() => nodes.forEach((n) => target.setDrift(n, 0)));
    }
  }
}

function describePartition(partition: NonNullable<Fault['partition']>): string {
  if (partition.isolate !== undefined) return `isolate ${partition.isolate}`;
  if (partition.groups !== undefined) return partition.groups.map((g) => g.join('+')).join(' | ');
  return partition.halves === true ? 'halves' : 'bridge';
}

/** Every directed link between the sides a partition separates. */
function cutLinks(partition: NonNullable<Fault['partition']>, cast: Cast, hit: (selector: string) => string[]): [string, string][] {
  let sides: string[][];
  if (partition.isolate !== undefined) {
    const isolated = hit(partition.isolate);
    sides = [isolated, cast.nodes.filter((n) => !isolated.includes(n))];
  } else if (partition.groups !== undefined) {
    sides = partition.groups.map((group) => [...new Set(group.flatMap(hit))]);
  } else {
    const majority = majorityOf(cast.servers);
    const minority = cast.servers.slice(majority.length);
    if (partition.bridge === true) {
      // The last server of the majority is the bridge: it keeps talking to both sides.
      return pairsBetween(majority.slice(0, -1), minority);
    }
    sides = [majority, minority];
  }
  const links = new LinkSet(cast.nodes);
  for (let i = 0; i < sides.length; i++) for (let j = i + 1; j < sides.length; j++) links.addBetween(sides[i]!, sides[j]!);
  return links.list;
}

function pairsBetween(a: readonly string[], b: readonly string[]): [string, string][] {
  const links: [string, string][] = [];
  for (const x of a) for (const y of b) if (x !== y) links.push([x, y], [y, x]);
  return links;
}

/**
 * Directed links, each kept once, in the order first added. Groups may overlap (`clients` and
 * `c1`), and without this every pair of groups would add its links again: the list stays within
 * nodes x nodes however many groups name the same nodes. The order is kept because healing a
 * held link delivers its packets, and the order of heals is part of the run.
 */
class LinkSet {
  readonly list: [string, string][] = [];
  private readonly index: Map<string, number>;
  private readonly seen: Uint8Array;

  constructor(private readonly nodes: readonly string[]) {
    this.index = new Map(nodes.map((node, i) => [node, i]));
    this.seen = new Uint8Array(nodes.length * nodes.length);
  }

  addBetween(a: readonly string[], b: readonly string[]): void {
    for (const x of a) {
      for (const y of b) {
        if (x === y) continue;
        this.add(x, y);
        this.add(y, x);
      }
    }
  }

  private add(from: string, to: string): void {
    const slot = this.index.get(from)! * this.nodes.length + this.index.get(to)!;
    if (this.seen[slot] === 1) return;
    this.seen[slot] = 1;
    this.list.push([from, to]);
  }
}

/** Every directed link to or from one of `nodes`, each once. */
function touching(nodes: readonly string[], all: readonly string[]): [string, string][] {
  const links: [string, string][] = [];
  for (const x of all) {
    for (const y of all) if (x !== y && (nodes.includes(x) || nodes.includes(y))) links.push([x, y]);
  }
  return links;
}
