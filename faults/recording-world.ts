/**
 * A recording world and a small cast, for tests of the planner and of each fault kind: the world
 * records every verb with the time it was called and runs its timers in time order.
 */
import type { Cast, FaultTarget } from './kind.ts';

/** A world that records every verb with the time it was called, and runs timers in time order. */
export class RecordingWorld implements FaultTarget {
  nowMs = 0;
  readonly calls: string[] = [];
  readonly paused = new Set<string>();
  readonly crashed = new Set<string>();
  private timers: { atMs: number; seq: number; fire: () => void }[] = [];
  private seq = 0;

  private record(what: string): void {
    this.calls.push(`${this.nowMs} ${what}`);
  }
  pause(node: string) {
    this.paused.add(node);
    this.record(`pause ${node}`);
  }
  resume(node: string) {
    this.paused.delete(node);
    this.record(`resume ${node}`);
  }
  crash(node: string) {
    this.crashed.add(node);
    this.record(`crash ${node}`);
  }
  restart(node: string, persist: boolean) {
    this.crashed.delete(node);
    this.record(`restart ${node} persist=${persist}`);
  }
  isCrashed = (node: string) => this.crashed.has(node);
  isPaused = (node: string) => this.paused.has(node);
  partition(from: string, to: string, mode: string) {
    this.record(`cut ${from}->${to} ${mode}`);
  }
  heal(from: string, to: string) {
    this.record(`heal ${from}->${to}`);
  }
  delay(from: string, to: string, extraMs: number) {
    this.record(`delay ${from}->${to} ${extraMs}`);
  }
  loss(from: string, to: string, probability: number) {
    this.record(`loss ${from}->${to} ${probability}`);
  }
  jumpClock(node: string, deltaMs: number) {
    this.record(`jump ${node} ${deltaMs}`);
  }
  setDrift(node: string, driftPpm: number) {
    this.record(`drift ${node} ${driftPpm}`);
  }
  at(atMs: number, fire: () => void) {
    this.timers.push({ atMs, seq: this.seq++, fire });
  }
  /** Run every timer due by `untilMs`, in (time, order of scheduling). */
  runUntil(untilMs: number): void {
    for (;;) {
      this.timers.sort((a, b) => a.atMs - b.atMs || a.seq - b.seq);
      const next = this.timers[0];
      if (next === undefined || next.atMs > untilMs) break;
      this.timers.shift();
      this.nowMs = Math.max(this.nowMs, next.atMs);
      next.fire();
    }
    this.nowMs = untilMs;
  }
}

/** A cast of three servers and three clients, whose holder and grants the test sets. */
export function castOf() {
  const grants: { nth: number; who: (p: string) => boolean; fire: () => void; seen: number }[] = [];
  const state = { holder: null as string | null, leader: 'server-2' as string | null | undefined };
  const cast: Cast = {
    servers: ['server-1', 'server-2', 'server-3'],
    clients: ['c1', 'c2', 'c3'],
    sentinels: [],
    nodes: ['server-1', 'server-2', 'server-3', 'register', 'c1', 'c2', 'c3'],
    holder: () => state.holder,
    leader: () => state.leader,
    pick: (items) => items[items.length - 1]!,
    afterGrant: (nth, who, fire) => grants.push({ nth, who, fire, seen: 0 }),
    afterAttempt: () => {},
    afterWriting: () => {},
  };
  /** `client` is granted the lock now. */
  const grant = (client: string) => {
    state.holder = client;
    for (const g of grants) if (g.who(client) && ++g.seen === g.nth) g.fire();
  };
  return { cast, state, grant };
}
