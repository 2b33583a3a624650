/**
 * The simulated network: one directed link per ordered pair of nodes.
 *
 * Fault model. A link is FIFO, like the TCP connection it stands for: a packet never overtakes an
 * earlier one on the same link, whatever latencies are drawn. Per link it can
 *   - add latency, drawn uniformly from [minMs, maxMs] plus any injected extra delay;
 *   - lose a packet with `lossProbability` (decided when it is sent);
 *   - be partitioned in one of two modes, per direction:
 *       drop: packets that arrive while it is cut are lost; the sender sees only silence;
 *       hold: packets that arrive while it is cut wait on the link and are delivered, in order,
 *             the moment it heals (Kleppmann's delayed packet).
 * Whether a packet is lost or held is judged when it would arrive, so packets already in flight
 * when a partition starts are caught by it too.
 *
 * Packets to a crashed node are lost; packets to a paused node wait until it resumes, unless they
 * are addressed to its OS layer (keepalive probes), which answers even while its process is
 * stopped, just as a SIGSTOPped process's kernel still ACKs TCP keepalives.
 * What the model leaves out: reordering across links, duplication, corruption, bandwidth.
 */
import { SimUsageError, requireDuration, requireProbability } from './errors.ts';
import type { Kernel } from './kernel.ts';
import type { Rng } from './rng.ts';

export type LinkState = 'healthy' | 'partitioned' | 'held';
export type PartitionMode = 'drop' | 'hold';
export type Layer = 'process' | 'os';

export interface Latency {
  readonly minMs: number;
  readonly maxMs: number;
}

export interface LinkConfig {
  readonly latency?: Latency;
  readonly lossProbability?: number;
  readonly extraDelayMs?: number;
}

export interface Message<P = unknown> {
  readonly from: string;
  readonly to: string;
  readonly payload: P;
  readonly layer: Layer;
  readonly sentAtMs: number;
  readonly label: string;
}

/** What the network needs of a node. */
export interface NetworkNode {
  readonly id: string;
  readonly index: number;
  readonly incarnation: number;
  readonly paused: boolean;
  readonly crashed: boolean;
  defer(event: import('./events.ts').SimEvent): void;
  deliver(message: Message): void;
}

export interface NetworkStats {
  sent: number;
  delivered: number;
  lost: number;
  dropped: number;
  held: number;
}

/** Most packets one held link may queue before the run is stopped: a bound, not a buffer size. */
export const MAX_HELD_PER_LINK = 1_000_000;

interface Packet {
  readonly message: Message;
  readonly incarnation: number;
  readonly link: Link;
}

class Link {
  state: LinkState = 'healthy';
  held: Packet[] = [];
  lastArrivalMs = 0;
  latency: Latency;
  lossProbability: number;
  extraDelayMs: number;

  constructor(
    readonly from: NetworkNode,
    readonly to: NetworkNode,
    readonly rng: Rng,
    defaults: Required<LinkConfig>,
  ) {
    this.latency = defaults.latency;
    this.lossProbability = defaults.lossProbability;
    this.extraDelayMs = defaults.extraDelayMs;
  }
}

export class Network {
  readonly stats: NetworkStats = { sent: 0, delivered: 0, lost: 0, dropped: 0, held: 0 };
  private readonly links: Link[] = [];
  /** Outgoing links by source node index, then target id: the hot path of send. */
  private readonly outgoing: Map<string, Link>[] = [];
  private defaults: Required<LinkConfig> = { latency: { minMs: 1, maxMs: 1 }, lossProbability: 0, extraDelayMs: 0 };

  constructor(
    private readonly kernel: Kernel,
    private readonly rng: Rng,
    private readonly resolve: (id: string) => NetworkNode,
  ) {}

  /** Configuration for links not yet used; links already created keep theirs. */
  setDefaults(config: LinkConfig): void {
    this.defaults = { ...this.defaults, ...checkConfig(config) };
  }

  configure(from: string, to: string, config: LinkConfig): void {
    const link = this.link(from, to);
    const checked = checkConfig(config);
    if (checked.latency !== undefined) link.latency = checked.latency;
    if (checked.lossProbability !== undefined) link.lossProbability = checked.lossProbability;
    if (checked.extraDelayMs !== undefined) link.extraDelayMs = checked.extraDelayMs;
  }

  state(from: string, to: string): LinkState {
    return this.link(from, to).state;
  }

  /** Cut the directed link from -> to. Switching a held link to drop loses what it held. */
  partition(from: string, to: string, mode: PartitionMode): void {
    const link = this.link(from, to);
    if (mode === 'drop') {
      this.stats.dropped += link.held.length;
      link.held = [];
      link.state = 'partitioned';
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- untyped callers can pass any mode; the else branch reports it
    } else if (mode === 'hold') {
      if (link.state !== 'held') link.state = 'held';
    } else {
      throw new SimUsageError(`partition mode must be 'drop' or 'hold', got '${String(mode)}'`);
    }
  }

  /** Repair the directed link from -> to; packets it held arrive now, in order. */
  heal(from: string, to: string): void {
    this.healLink(this.link(from, to));
  }

  /** Repair every link: partitions healed (held packets delivered), injected delay and loss back to the defaults. */
  healAll(): void {
    for (const link of this.links) {
      link.extraDelayMs = this.defaults.extraDelayMs;
      link.lossProbability = this.defaults.lossProbability;
      this.healLink(link);
    }
  }

  send(from: NetworkNode, to: string, payload: unknown, label: string, layer: Layer): void {
    const link = this.outgoing[from.index]?.get(to) ?? this.link(from.id, to);
    const target = link.to;
    const message: Message = { from: from.id, to, payload, layer, sentAtMs: this.kernel.nowMs, label };
    this.stats.sent++;
    if (link.lossProbability > 0 && link.rng.chance(link.lossProbability)) {
      this.stats.lost++;
      return;
    }
    const { minMs, maxMs } = link.latency;
    const drawn = minMs === maxMs ? minMs : link.rng.uniform(minMs, maxMs);
    const arrivalMs = Math.max(this.kernel.nowMs + drawn + link.extraDelayMs, link.lastArrivalMs);
    link.lastArrivalMs = arrivalMs;
    const packet: Packet = { message, incarnation: target.incarnation, link };
    this.kernel.scheduleCall(
      arrivalMs - this.kernel.nowMs,
      target,
      label,
      this.arrive,
      packet,
      false,
      layer === 'process',
      from.index,
    );
  }

  /** Fires when a packet reaches the far end of its link (an arrow: it is passed around unbound). */
  private readonly arrive = (packet: Packet): void => {
    const link = packet.link;
    if (link.state === 'partitioned') {
      this.stats.dropped++;
    } else if (link.state === 'held') {
      if (link.held.length >= MAX_HELD_PER_LINK) {
        throw new SimUsageError(`link ${link.from.id}->${link.to.id} holds more than ${MAX_HELD_PER_LINK} packets`);
      }
      this.stats.held++;
      link.held.push(packet);
    } else if (link.to.crashed || link.to.incarnation !== packet.incarnation) {
      this.stats.lost++;
    } else {
      this.stats.delivered++;
      link.to.deliver(packet.message);
    }
  };

  private healLink(link: Link): void {
    link.state = 'healthy';
    const held = link.held;
    link.held = [];
    for (const packet of held) {
      this.kernel.scheduleCall(
        0,
        link.to,
        packet.message.label,
        this.arrive,
        packet,
        true,
        packet.message.layer === 'process',
        link.from.index,
      );
    }
  }

  private link(from: string, to: string): Link {
    const source = this.resolve(from);
    let byTarget = this.outgoing[source.index];
    if (byTarget === undefined) {
      byTarget = new Map();
      this.outgoing[source.index] = byTarget;
    }
    let link = byTarget.get(to);
    if (link === undefined) {
      const target = this.resolve(to);
      if (source === target) throw new SimUsageError(`there is no link from node '${from}' to itself`);
      link = new Link(source, target, this.rng.fork(`${from}->${to}`), this.defaults);
      byTarget.set(to, link);
      this.links.push(link);
    }
    return link;
  }
}

function checkConfig(config: LinkConfig): Partial<Required<LinkConfig>> {
  const out: { latency?: Latency; lossProbability?: number; extraDelayMs?: number } = {};
  if (config.latency !== undefined) {
    const { minMs, maxMs } = config.latency;
    requireDuration('latency.minMs', minMs);
    requireDuration('latency.maxMs', maxMs);
    if (maxMs < minMs) throw new SimUsageError(`latency.maxMs (${maxMs}) must be >= latency.minMs (${minMs})`);
    out.latency = { minMs, maxMs };
  }
  if (config.lossProbability !== undefined) {
    requireProbability('lossProbability', config.lossProbability);
    out.lossProbability = config.lossProbability;
  }
  if (config.extraDelayMs !== undefined) {
    requireDuration('extraDelayMs', config.extraDelayMs);
    out.extraDelayMs = config.extraDelayMs;
  }
  return out;
}
