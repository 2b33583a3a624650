/**
 * A replicated log with a leader, after Raft, shared by the etcd and ZooKeeper models.
 *
 * Fault model. Servers crash and restart, pause, and are partitioned; messages are delayed or
 * lost. The log keeps its promises through all of that:
 *   - at most one leader per term; a leader is elected by a majority that finds its log at least
 *     as up to date as theirs;
 *   - an entry is committed once a majority stores it in the leader's term, and a committed entry
 *     is never lost or reordered, as long as a majority keeps its disk;
 *   - a leader that has not heard from a majority for an election timeout steps down (etcd's
 *     CheckQuorum; ZooKeeper's leader does the same when it loses its followers), so a leader cut
 *     off in a minority stops acting as one by its own clock.
 *   - time as Raft counts it: in ticks. etcd drives its raft with a Go ticker (etcdserver/raft.go,
 *     `case <-r.ticker.C: r.tick()`), and raft counts elapsed ticks (raft.go tickElection,
 *     tickHeartbeat, then MsgCheckQuorum). A Go ticker drops the ticks a stopped receiver misses,
 *     so a server SIGSTOPped for seconds sees one tick when it runs again, not an election
 *     timeout's worth: the leader of a cluster paused as a whole keeps leading after the resume,
 *     and its followers do not campaign at once. ZooKeeper's leader counts ticks of its own loop
 *     the same way (Leader.lead, syncLimit). Here, a timer that fires more than a heartbeat late
 *     means this server was stopped: the leader does not count the stopped time against its
 *     peers, and a follower's overdue election timer starts again instead of campaigning.
 *     (Leases and sessions are timed on the monotonic clock, which runs on through a stop: see
 *     etcd's lessor and ZooKeeper's session tracker, which expire them after the resume.)
 * Term, vote and log live on the host's disk (Raft's persistent state); a restart without
 * persistence comes back empty, the failure a real deployment suffers when it loses a disk.
 * The state machine is volatile and rebuilt by replaying the committed log.
 * Left out: membership changes, snapshots, pre-vote, log compaction, batching limits beyond a
 * fixed cap per message, leader leases for reads (reads here go through the log).
 */
import type { Future } from '../../../sim/future.ts';
import type { Host } from '../../../sim/node.ts';
import type { Message } from '../../../sim/network.ts';

export interface StateMachine<C, R> {
  /** Apply a committed command; must be deterministic. `index` is its log position. */
  apply(command: C, index: number): R;
}

export interface RaftOptions {
  /** Every server's node id, this one included. */
  readonly servers: readonly string[];
  /** An election starts after a random silence in [min, max] ms of local time. */
  readonly electionTimeoutMs: readonly [number, number];
  readonly heartbeatMs: number;
  /** How long a follower waits for the leader to answer a forwarded command. */
  readonly forwardTimeoutMs: number;
}

export type Role = 'follower' | 'candidate' | 'leader';

/** The command did not commit here, and nobody can say whether it will: no leader, or leadership lost. */
export class NotLeader extends Error {
  override name = 'NotLeader';
}

interface Entry<C> {
  readonly term: number;
  /** null: the no-op a new leader appends so that entries of earlier terms can commit. */
  readonly command: C | null;
}

interface Persistent<C> {
  term: number;
  votedFor: string | null;
  log: Entry<C>[];
}

type RaftWire<C> =
  | { type: 'raft'; rpc: 'vote'; term: number; lastIndex: number; lastTerm: number }
  | { type: 'raft'; rpc: 'vote-reply'; term: number; granted: boolean }
  | {
      type: 'raft';
      rpc: 'append';
      term: number;
      prevIndex: number;
      prevTerm: number;
      entries: Entry<C>[];
      commit: number;
    }
  | { type: 'raft'; rpc: 'append-reply'; term: number; ok: boolean; matchIndex: number }
  | { type: 'raft'; rpc: 'forward'; id: number; command: C }
  | { type: 'raft'; rpc: 'forward-reply'; id: number; ok: boolean; result: unknown };

const MAX_ENTRIES_PER_APPEND = 64;
const STATE = 'raft.state';

export class RaftNode<C, R> {
  role: Role = 'follower';
  leaderId: string | null = null;
  commitIndex = 0;
  private lastApplied = 0;
  private readonly state: Persistent<C>;
  private readonly majority: number;
  private readonly peers: readonly string[];
  private electionTimer: { cancel(): void } | null = null;
  private votes = new Set<string>();
  private nextIndex = new Map<string, number>();
  private matchIndex = new Map<string, number>();
  /** When each peer last answered this leader, by local monotonic time. */
  private heardFrom = new Map<string, number>();
  private readonly proposals = new Map<number, { term: number; future: Future<R> }>();
  private readonly forwarded = new Map<number, Future<R>>();
  private nextForward = 0;
  private readonly leadershipListeners: ((leading: boolean) => void)[] = [];

  constructor(
    private readonly host: Host,
    private readonly options: RaftOptions,
    private readonly machine: StateMachine<C, R>,
  ) {
    let state = host.disk.get(STATE) as Persistent<C> | undefined;
    if (state === undefined) {
      state = { term: 0, votedFor: null, log: [] };
      host.disk.set(STATE, state);
    }
    this.state = state;
    this.peers = options.servers.filter((id) => id !== host.id);
    this.majority = Math.floor(options.servers.length / 2) + 1;
    this.resetElectionTimer();
  }

  get term(): number {
    return this.state.term;
  }

  get isLeader(): boolean {
    return this.role === 'leader';
  }

  get lastIndex(): number {
    return this.state.log.length;
  }

  /** Told true when this node becomes leader and false when it stops being one. */
  onLeadership(listener: (leading: boolean) => void): void {
    this.leadershipListeners.push(listener);
  }

  /** Commit `command` through the leader, wherever this node stands; resolves with its result once applied. */
  submit(command: C): Future<R> {
    if (this.role === 'leader') return this.propose(command);
    const future = this.host.future<R>();
    if (this.leaderId === null) {
      future.reject(new NotLeader(`${this.host.id} knows no leader (term ${this.state.term})`));
      return future;
    }
    const id = this.nextForward++;
    this.forwarded.set(id, future);
    this.host.send(this.leaderId, { type: 'raft', rpc: 'forward', id, command } satisfies RaftWire<C>, {
      label: 'raft-forward',
    });
    const timer = this.host.timer(this.options.forwardTimeoutMs, 'raft-forward-timeout', () =>
      future.reject(new NotLeader(`leader ${this.leaderId ?? '?'} did not answer a forwarded command`)),
    );
    future.onSettle(() => {
      timer.cancel();
      this.forwarded.delete(id);
    });
    return future;
  }

  /** Leader only: append `command` and resolve once it is committed and applied here. */
  propose(command: C): Future<R> {
    const future = this.host.future<R>();
    if (this.role !== 'leader') {
      future.reject(new NotLeader(`${this.host.id} is not the leader`));
      return future;
    }
    this.state.log.push({ term: this.state.term, command });
    this.proposals.set(this.lastIndex, { term: this.state.term, future });
    this.matchIndex.set(this.host.id, this.lastIndex);
    this.advanceCommit();
    for (const peer of this.peers) this.sendAppend(peer);
    return future;
  }

  /** Feed a peer message; returns false if it is not a Raft message. */
  handle(message: Message): boolean {
    const payload = message.payload;
    if (payload === null || typeof payload !== 'object' || (payload as { type?: unknown }).type !== 'raft')
      return false;
    const wire = payload as RaftWire<C>;
    if ('term' in wire && wire.term > this.state.term) this.stepDown(wire.term, null);
    switch (wire.rpc) {
      case 'vote':
        this.onVote(message.from, wire);
        break;
      case 'vote-reply':
        this.onVoteReply(message.from, wire);
        break;
      case 'append':
        this.onAppend(message.from, wire);
        break;
      case 'append-reply':
        this.onAppendReply(message.from, wire);
        break;
      case 'forward':
        this.onForward(message.from, wire);
        break;
      case 'forward-reply': {
        const future = this.forwarded.get(wire.id);
        if (future === undefined) break;
        if (wire.ok) future.resolve(wire.result as R);
        else future.reject(new NotLeader(String(wire.result)));
        break;
      }
    }
    return true;
  }

  private onVote(from: string, wire: { term: number; lastIndex: number; lastTerm: number }): void {
    const upToDate =
      wire.lastTerm > this.lastTerm() || (wire.lastTerm === this.lastTerm() && wire.lastIndex >= this.lastIndex);
    const granted =
      wire.term === this.state.term && upToDate && (this.state.votedFor === null || this.state.votedFor === from);
    if (granted) {
      this.state.votedFor = from;
      this.resetElectionTimer();
    }
    this.host.send(from, { type: 'raft', rpc: 'vote-reply', term: this.state.term, granted } satisfies RaftWire<C>, {
      label: 'raft-vote-reply',
    });
  }

  private onVoteReply(from: string, wire: { term: number; granted: boolean }): void {
    if (this.role !== 'candidate' || wire.term !== this.state.term || !wire.granted) return;
    this.votes.add(from);
    if (this.votes.size >= this.majority) this.becomeLeader();
  }

  private onAppend(
    from: string,
    wire: { term: number; prevIndex: number; prevTerm: number; entries: Entry<C>[]; commit: number },
  ): void {
    if (wire.term < this.state.term) {
      this.replyAppend(from, false, 0);
      return;
    }
    if (this.role !== 'follower' || this.leaderId !== from) this.stepDown(wire.term, from);
    this.resetElectionTimer();
    const log = this.state.log;
    if (wire.prevIndex > log.length || (wire.prevIndex > 0 && this.termAt(wire.prevIndex) !== wire.prevTerm)) {
      this.replyAppend(from, false, Math.min(wire.prevIndex - 1, log.length));
      return;
    }
    wire.entries.forEach((entry, i) => {
      const index = wire.prevIndex + i + 1;
      if (log.length >= index && this.termAt(index) !== entry.term) log.length = index - 1;
      if (log.length < index) log.push(entry);
    });
    const matchIndex = wire.prevIndex + wire.entries.length;
    if (wire.commit > this.commitIndex) this.commitIndex = Math.min(wire.commit, matchIndex);
    this.applyCommitted();
    this.replyAppend(from, true, matchIndex);
  }

  /** A method, not a closure made per append: appends are the heartbeat, the hottest message. */
  private replyAppend(to: string, ok: boolean, matchIndex: number): void {
    this.host.send(
      to,
      { type: 'raft', rpc: 'append-reply', term: this.state.term, ok, matchIndex } satisfies RaftWire<C>,
      { label: 'raft-append-reply' },
    );
  }

  private onAppendReply(from: string, wire: { term: number; ok: boolean; matchIndex: number }): void {
    if (this.role !== 'leader' || wire.term !== this.state.term) return;
    this.heardFrom.set(from, this.host.clock.monotonic());
    if (wire.ok) {
      if (wire.matchIndex > (this.matchIndex.get(from) ?? 0)) this.matchIndex.set(from, wire.matchIndex);
      this.nextIndex.set(from, wire.matchIndex + 1);
      this.advanceCommit();
      if (wire.matchIndex < this.lastIndex) this.sendAppend(from);
    } else {
      this.nextIndex.set(from, Math.max(1, wire.matchIndex + 1));
      this.sendAppend(from);
    }
  }

  private onForward(from: string, wire: { id: number; command: C }): void {
    if (this.role !== 'leader') {
      this.answerForward(from, wire.id, false, `${this.host.id} is not the leader`);
      return;
    }
    this.propose(wire.command).onSettle((ok, value) =>
      this.answerForward(from, wire.id, ok, ok ? value : (value as Error).message),
    );
  }

  private answerForward(to: string, id: number, ok: boolean, result: unknown): void {
    this.host.send(to, { type: 'raft', rpc: 'forward-reply', id, ok, result } satisfies RaftWire<C>, {
      label: 'raft-forward-reply',
    });
  }

  private startElection(): void {
    this.role = 'candidate';
    this.leaderId = null;
    this.state.term++;
    this.state.votedFor = this.host.id;
    this.votes = new Set([this.host.id]);
    this.resetElectionTimer();
    if (this.votes.size >= this.majority) {
      this.becomeLeader();
      return;
    }
    for (const peer of this.peers) {
      this.host.send(
        peer,
        {
          type: 'raft',
          rpc: 'vote',
          term: this.state.term,
          lastIndex: this.lastIndex,
          lastTerm: this.lastTerm(),
        } satisfies RaftWire<C>,
        {
          label: 'raft-vote',
        },
      );
    }
  }

  private becomeLeader(): void {
    this.role = 'leader';
    this.leaderId = this.host.id;
    this.electionTimer?.cancel();
    const now = this.host.clock.monotonic();
    for (const peer of this.peers) {
      this.nextIndex.set(peer, this.lastIndex + 1);
      this.matchIndex.set(peer, 0);
      this.heardFrom.set(peer, now);
    }
    this.state.log.push({ term: this.state.term, command: null });
    this.matchIndex.set(this.host.id, this.lastIndex);
    this.advanceCommit();
    for (const listener of this.leadershipListeners) listener(true);
    this.heartbeat(this.state.term, now);
  }

  /**
   * Leader loop: replicate, and step down when a majority has gone quiet for an election timeout.
   * `dueMs` is when this beat was due: one that comes much later finds the server was stopped,
   * and the stopped time is not counted against the peers (see the header: ticks are dropped).
   */
  private heartbeat(term: number, dueMs: number): void {
    if (this.role !== 'leader' || this.state.term !== term) return;
    const now = this.host.clock.monotonic();
    const stoppedMs = now - dueMs;
    if (stoppedMs > this.options.heartbeatMs)
      for (const [peer, atMs] of this.heardFrom) this.heardFrom.set(peer, atMs + stoppedMs);
    const live =
      1 +
      this.peers.filter((peer) => now - (this.heardFrom.get(peer) ?? -Infinity) < this.options.electionTimeoutMs[0])
        .length;
    if (live < this.majority) {
      this.stepDown(this.state.term, null);
      return;
    }
    for (const peer of this.peers) this.sendAppend(peer);
    this.host.timer(this.options.heartbeatMs, 'raft-heartbeat', () =>
      this.heartbeat(term, now + this.options.heartbeatMs),
    );
  }

  private sendAppend(peer: string): void {
    const nextIndex = this.nextIndex.get(peer) ?? this.lastIndex + 1;
    const prevIndex = nextIndex - 1;
    const entries = this.state.log.slice(prevIndex, prevIndex + MAX_ENTRIES_PER_APPEND);
    this.host.send(
      peer,
      {
        type: 'raft',
        rpc: 'append',
        term: this.state.term,
        prevIndex,
        prevTerm: this.termAt(prevIndex),
        entries,
        commit: this.commitIndex,
      } satisfies RaftWire<C>,
      { label: 'raft-append' },
    );
  }

  private advanceCommit(): void {
    for (let n = this.lastIndex; n > this.commitIndex; n--) {
      if (this.termAt(n) !== this.state.term) break;
      let replicas = 0;
      for (const id of this.options.servers) if ((this.matchIndex.get(id) ?? 0) >= n) replicas++;
      if (replicas >= this.majority) {
        this.commitIndex = n;
        break;
      }
    }
    this.applyCommitted();
  }

  private applyCommitted(): void {
    while (this.lastApplied < this.commitIndex) {
      const index = ++this.lastApplied;
      const entry = this.state.log[index - 1];
      if (entry === undefined) throw new Error(`raft: no entry at the commit index ${index}`);
      if (entry.command === null) continue;
      const result = this.machine.apply(entry.command, index);
      const proposal = this.proposals.get(index);
      if (proposal !== undefined) {
        this.proposals.delete(index);
        if (proposal.term === entry.term) proposal.future.resolve(result);
        else proposal.future.reject(new NotLeader(`entry ${index} was replaced by a later leader`));
      }
    }
  }

  private stepDown(term: number, leaderId: string | null): void {
    const wasLeader = this.role === 'leader';
    if (term > this.state.term) {
      this.state.term = term;
      this.state.votedFor = null;
    }
    this.role = 'follower';
    this.leaderId = leaderId;
    if (wasLeader) {
      for (const [index, proposal] of this.proposals) {
        if (index > this.commitIndex) {
          this.proposals.delete(index);
          proposal.future.reject(new NotLeader(`${this.host.id} lost leadership before entry ${index} committed`));
        }
      }
      for (const listener of this.leadershipListeners) listener(false);
    }
    this.resetElectionTimer();
  }

  private resetElectionTimer(): void {
    this.electionTimer?.cancel();
    const [min, max] = this.options.electionTimeoutMs;
    const timeoutMs = min + this.host.rng.next() * (max - min);
    const dueMs = this.host.clock.monotonic() + timeoutMs;
    this.electionTimer = this.host.timer(timeoutMs, 'raft-election', () => {
      if (this.role === 'leader') return;
      // Overdue by more than a heartbeat: this server was stopped, and missed the ticks (see the header).
      if (this.host.clock.monotonic() - dueMs > this.options.heartbeatMs) this.resetElectionTimer();
      else this.startElection();
    });
  }

  private lastTerm(): number {
    return this.termAt(this.state.log.length);
  }

  /** The term of the entry at (1-based) `index`; 0 at index 0, before the first entry. */
  private termAt(index: number): number {
    if (index === 0) return 0;
    const entry = this.state.log[index - 1];
    if (entry === undefined)
      throw new Error(`raft: no entry at index ${index} (the log holds ${this.state.log.length})`);
    return entry.term;
  }
}
