/**
 * The fault verbs of a live run: what the scenario's faults do to real processes and links.
 *
 *   partition drop   a `timeout` toxic on both streams of every proxy on a cut link: nothing
 *                    passes. For the databases, whose server notices a dead client only through
 *                    its connection, the toxic closes the connection after the lease time (ttlMs),
 *                    which is what the server's keepalive would do to a silent peer; Toxiproxy's
 *                    own socket would otherwise keep answering it.
 *   partition hold   a `latency` toxic longer than the run, removed at heal: held bytes then flow.
 *                    While a client's cuts are being installed the client is held stopped, so that
 *                    nothing it sends slips through before they land (ClientProcesses.freeze).
 *                    On a database link, the drop toxic above: a session cannot outlive a hold
 *                    longer than its keepalive, and what the hold delivers later finds it gone.
 *   delay            a `latency` toxic on the link's direction.
 *   loss             TCP does not lose bytes; a lost segment is a retransmission later. A `latency`
 *                    toxic of 200 ms (Linux's minimum retransmission timeout) with toxicity set to
 *                    the probability: that share of connections sees the delay.
 *   pause            SIGSTOP, SIGCONT at heal (clients, and servers under the local provider).
 *   crash            SIGKILL; restart starts the server again with its data (persist) or without.
 *   clock jump       a client's clock is stepped (recipes read time only through Clock); a server's
 *                    is applied as its effect, by the cluster (see Cluster.jumpClock).
 *   clock drift      a client's clock runs fast or slow; a server's cannot be made to (skipped).
 *
 * A link between a client (or the register) and a server or Sentinel is that client's proxy; a
 * link between two servers, two Sentinels, or a server and a Sentinel is the cluster's business
 * (its peer links: servers 1..n, then Sentinels n+1..n+m); links between clients carry nothing.
 */
import type { SystemId } from '../backends/recipe.ts';
import type { FaultTarget } from '../faults/kind.ts';
import type { PartitionMode } from '../sim/network.ts';
import type { ActionChain } from './actions.ts';
import type { ClientProcesses } from './clients.ts';
import type { Cluster, ServerControl } from './cluster.ts';
import type { ClientLinks, Link, Stream } from './links.ts';
import { promiseOf } from './promise-of.ts';

/** What the verbs act on. */
export interface LiveRun {
  readonly system: SystemId;
  readonly cluster: Cluster;
  /** server-1 .. server-n. */
  readonly servers: readonly string[];
  /** sentinel-1 .. sentinel-m, where the system has Sentinels. */
  readonly sentinels: readonly string[];
  readonly clients: readonly string[];
  readonly processes: ClientProcesses;
  readonly links: ClientLinks;
  readonly actions: ActionChain;
  readonly notes: string[];
  /** True time: ms since the run's epoch on the machine's monotonic clock. */
  now(): number;
  readonly epochMs: number;
}

export class LiveTarget implements FaultTarget {
  // What the faults have done to servers so far, known at once: the actions themselves run later, in order.
  private readonly crashedServers = new Set<string>();
  private readonly pausedServers = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly run: LiveRun) {}

  get nowMs(): number {
    return this.run.now();
  }

  pause(node: string): void {
    if (this.run.processes.has(node)) {
      this.run.processes.pause(node);
      return;
    }
    this.pausedServers.add(node);
    this.run.actions.act(`pause ${node}`, () => promiseOf(() => this.control(node)?.pause()));
  }

  resume(node: string): void {
    if (this.run.processes.has(node)) {
      this.run.processes.resume(node);
      return;
    }
    this.pausedServers.delete(node);
    this.run.actions.act(`resume ${node}`, () => promiseOf(() => this.control(node)?.resume()));
  }

  crash(node: string): void {
    if (this.run.processes.has(node)) {
      this.run.processes.crash(node);
      return;
    }
    this.crashedServers.add(node);
    this.pausedServers.delete(node);
    this.run.actions.act(`crash ${node}`, async () => this.control(node)?.kill());
  }

  restart(node: string, persist: boolean): void {
    if (this.run.processes.has(node)) {
      this.run.processes.restart(node, this.run.epochMs);
      return;
    }
    this.crashedServers.delete(node);
    this.run.actions.act(`restart ${node}`, async () => this.control(node)?.restart(persist));
  }

  isCrashed(node: string): boolean {
    return this.run.processes.state(node)?.crashed ?? this.crashedServers.has(node);
  }

  isPaused(node: string): boolean {
    return this.run.processes.state(node)?.paused ?? this.pausedServers.has(node);
  }

  partition(from: string, to: string, mode: PartitionMode): void {
    // The client stays stopped until its cut is in place (ClientProcesses.freeze).
    const client = [from, to].find((node) => this.run.processes.has(node));
    if (client !== undefined) this.run.processes.freeze(client);
    this.onLink(
      from,
      to,
      (link) => this.run.links.cut(link, mode),
      (a, b) => this.peers()?.cut(a, b, mode),
    );
    if (client !== undefined)
      this.run.actions.act(`thaw ${client}`, () => promiseOf(() => this.run.processes.thaw(client)));
  }

  heal(from: string, to: string): void {
    this.onLink(
      from,
      to,
      (link) => this.run.links.heal(link),
      (a, b) => this.peers()?.heal(a, b),
    );
  }

  delay(from: string, to: string, extraMs: number): void {
    this.onLink(
      from,
      to,
      (link, stream) => this.run.links.delay(link, stream, extraMs),
      (a, b) => this.peers()?.delay?.(a, b, extraMs),
    );
  }

  loss(from: string, to: string, probability: number): void {
    this.onLink(from, to, (link, stream) => this.run.links.loss(link, stream, probability));
  }

  jumpClock(node: string, deltaMs: number): void {
    if (this.run.processes.has(node)) {
      this.run.processes.send(node, { type: 'clock', jumpMs: deltaMs });
      return;
    }
    const { cluster, system, notes } = this.run;
    this.run.actions.act(`clock jump on ${node}`, async () => {
      // live/capabilities.ts skips the runs that jump a Sentinel's clock; this voids any that gets here.
      if (!this.run.servers.includes(node)) throw new Error(`live: cannot jump the clock of ${node}`);
      notes.push(`${node}: ${await cluster.jumpClock(system, this.run.servers.indexOf(node) + 1, deltaMs)}`);
    });
  }

  setDrift(node: string, driftPpm: number): void {
    this.run.processes.send(node, { type: 'clock', driftPpm });
  }

  at(atMs: number, fire: () => void): void {
    const wait = atMs - this.run.now();
    if (wait <= 0) {
      fire();
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fire();
    }, wait);
    this.timers.add(timer);
  }

  /** Nothing scheduled fires any more: the run is over. */
  cancel(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private control(node: string): ServerControl | null {
    const { cluster, system, servers, sentinels } = this.run;
    const server = servers.indexOf(node);
    if (server >= 0) return cluster.servers(system)[server]?.control ?? null;
    return cluster.sentinels(system)[sentinels.indexOf(node)]?.control ?? null;
  }

  /** A server's or a Sentinel's number among the peer links (servers first, from 1); 0 for anything else. */
  private peerIndex(node: string): number {
    const { servers, sentinels } = this.run;
    const server = servers.indexOf(node);
    if (server >= 0) return server + 1;
    const sentinel = sentinels.indexOf(node);
    return sentinel >= 0 ? servers.length + sentinel + 1 : 0;
  }

  private peers() {
    return this.run.cluster.peers(this.run.system);
  }

  private onLink(
    from: string,
    to: string,
    onProxy: (link: Link, stream: Stream) => Promise<void>,
    onPeers?: (a: number, b: number) => Promise<void> | undefined,
  ): void {
    const { clients, notes, actions } = this.run;
    const fromPeer = this.peerIndex(from);
    const toPeer = this.peerIndex(to);
    if (fromPeer > 0 && toPeer > 0) {
      const mechanism = this.peers()?.mechanism;
      if (mechanism !== undefined && !notes.includes(`links between servers: ${mechanism}`))
        notes.push(`links between servers: ${mechanism}`);
      if (onPeers !== undefined) actions.act(`link ${from}->${to}`, async () => await onPeers(fromPeer, toPeer));
      return;
    }
    const clientSide = clients.includes(from) ? from : clients.includes(to) ? to : null;
    if (clientSide === null) return;
    const other = clientSide === from ? to : from;
    const link = this.run.links.get(clientSide, other);
    if (link === undefined) return;
    actions.act(`link ${from}->${to}`, () => onProxy(link, clientSide === from ? 'upstream' : 'downstream'));
  }
}
