/**
 * What a fault kind is: everything the tool knows about one kind of fault, in one module (Jepsen's
 * nemesis packages are the model). A kind says how a scenario file writes it, which selectors it
 * names, how `check` generates it, how it hits a world and heals, why a system or a live world
 * cannot take it, and how the report draws it. The interfaces it acts on are defined here too, so
 * a kind module imports nothing but this file, the format's shared fields and its helpers.
 */
import type fc from 'fast-check';
import type { z } from 'zod';
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
  /** The processes that watch the servers and fail them over (redis-sentinel's Sentinels); empty elsewhere. */
  readonly sentinels: readonly string[];
  /** Every node of the run, servers, Sentinels, clients and the register. */
  readonly nodes: readonly string[];
  holder(): string | null;
  /** The system's leader; undefined when the system has no such thing. */
  leader(): string | null | undefined;
  /** A uniformly random pick, from the run's own seeded stream. */
  pick<T>(items: readonly T[]): T;
  /** Call `fire(process)` just after the nth grant (acquire or election) by a process accepted by `who`. */
  afterGrant(nth: number, who: (process: string) => boolean, fire: () => void): void;
  /** The same, just after the nth acquire or campaign attempt starts (request sent, no answer yet). */
  afterAttempt(nth: number, who: (process: string) => boolean, fire: () => void): void;
  /** The same, just before the nth write a mutex client is about to send; the fault lands before the write leaves. */
  afterWriting(nth: number, who: (process: string) => boolean, fire: () => void): void;
}

/** The shape of a system, as far as selectors care. */
export interface Topology {
  readonly servers: number;
  readonly hasLeader: boolean;
  /** How many Sentinels the system runs beside its servers (0 for most). */
  readonly sentinels: number;
}

/**
 * What a live world can do to its servers, as fault kinds need to know it. Defined here, not in
 * live/, because runner/ never imports live/: the live world builds this from its cluster.
 */
export interface LiveCapabilities {
  /** The provider's name, for reasons: local, external, compose. */
  readonly provider: string;
  readonly system: string;
  /** The system's number of servers. */
  readonly servers: number;
  /** Whether it can stop, kill and restart every server process. */
  readonly controlsServers: boolean;
  /** Whether a server's clock jump reaches the data (Redis expiries) the server holds. */
  readonly appliesServerClockJump: boolean;
  /** Whether it can ask the cluster which server leads. */
  readonly knowsLeader: boolean;
  readonly peerLinks: {
    /** Why links between servers cannot be touched here, or null when they can. */
    readonly unavailable: string | null;
    readonly canDelay: boolean;
    /** Whether a share of the packets between servers can be lost (every provider's links are cut by routes or not at all: only where there are none). */
    readonly canLose: boolean;
    /** How the links are cut (iptables, Toxiproxy), for reasons. */
    readonly mechanism?: string;
  };
}

/** One firing of one fault: what a kind's `apply` works with. */
export interface Strike {
  readonly target: FaultTarget;
  readonly cast: Cast;
  /** The nodes a selector names now; a note says so when it names none. */
  readonly hit: (selector: string) => string[];
  /** The fault is in force; `label` is what the history records and the report draws. */
  readonly started: (label: string) => void;
  /** The fault has healed, now. */
  readonly ended: () => void;
  /** Run `undo`, then end, `forMs` after now; a fault without forMs heals at the end of the run. */
  readonly healAfter: (undo: () => void) => void;
}

/** What `check`'s generator of a kind may draw from; every draw stays within a short run. */
export interface Draws {
  /** A selector every run of the system resolves. */
  readonly who: fc.Arbitrary<string>;
  readonly forMs: fc.Arbitrary<number>;
  readonly ttlMs: number;
  readonly servers: number;
  /** Whether a restart may come back without its disk (see runner/search.ts). */
  readonly diskless: boolean;
  /** How a kind draws a duration in [min, max] ms other than forMs; uniform integers when absent. */
  readonly span?: (min: number, max: number) => fc.Arbitrary<number>;
  /** Whether a crashed node always comes back (a restart is then part of every crash drawn). */
  readonly restarts?: boolean;
}

/** A kind's fields as the format declares them: name to schema. */
export type Fields = Readonly<Record<string, z.ZodType>>;

/** A parsed object of the fields `S` declares. */
export type FieldsOf<S extends Fields> = z.output<z.ZodObject<S>>;

/** One fault kind; `F` is its fields as parsed (the trigger aside). */
export interface FaultKind<F = unknown> {
  /** The kind's key in a scenario file, and the first word of its label. */
  readonly name: string;
  /** Its fields in the format: its key first, then its options (the shared forMs, if it heals after a time). */
  readonly fields: Fields;
  /** A colour for its fault bands in the report: muted, away from the verdict colours. */
  readonly color: string;
  /** Rules across its fields that the field schemas cannot state alone. */
  refine?(fault: F, issue: (message: string, path?: string) => void): void;
  /** Every selector it names. */
  selectors(fault: F): string[];
  /** `check`'s generator of its fields. */
  arbitrary(draws: Draws): fc.Arbitrary<Record<string, unknown>>;
  /** Why a system of this shape cannot take it (beyond unknown selectors), or null. */
  cannotApply?(fault: F, topology: Topology): string | null;
  /** Why a live world cannot perform it, or null; `hitsServers` says whether it names a server. */
  whyNotLive?(fault: F, live: LiveCapabilities, hitsServers: boolean): string | null;
  /** Whether it touches what concurrent runs share: a server process or clock, a link between servers. */
  touchesShared(fault: F, servers: number, hitsServers: boolean): boolean;
  /** Hit the world, and arrange the heal. */
  apply(fault: F, strike: Strike): void;
}

/** Declare a kind; infers its parsed fields from its field schemas, so the two cannot disagree. */
export function defineKind<S extends Fields>(
  kind: FaultKind<FieldsOf<S>> & { readonly fields: S },
): FaultKind<FieldsOf<S>> & { readonly fields: S } {
  return kind;
}
