/**
 * The history of a run, in the shape Jepsen uses: every operation is an `invoke` followed by
 * `ok`, `fail` (it certainly did not happen) or `info` (nobody knows: a timeout). Checkers read
 * nothing else, so sim and live runs are judged alike.
 */

export type OpType = 'invoke' | 'ok' | 'fail' | 'info';

/**
 * acquire/release: the lock; read/write: the protected register; campaign/resign: election;
 * crash: the client died; fault-start/fault-end: the nemesis (process "nemesis") hit or healed,
 * `value` numbering the scenario's fault and `detail` saying what it did.
 */
export type OpName =
  | 'acquire'
  | 'release'
  | 'read'
  | 'write'
  | 'campaign'
  | 'resign'
  | 'crash'
  | 'fault-start'
  | 'fault-end';

export const NEMESIS = 'nemesis';

export interface Op {
  readonly index: number;
  /** The client: c1, c2, ... */
  readonly process: string;
  readonly type: OpType;
  readonly f: OpName;
  /** True time in ms (sim: kernel time; live: the machine's monotonic clock). */
  readonly timeMs: number;
  /** read: the value read; write: the value written. */
  readonly value?: number;
  /** The fencing token carried or granted, when there is one. */
  readonly token?: number | null;
  readonly error?: string;
  readonly detail?: string;
}

/** What the protected register saw: every write it was asked to apply, in the order it judged them. */
export interface RegisterWrite {
  readonly timeMs: number;
  readonly process: string;
  readonly value: number;
  readonly token: number | null;
  readonly accepted: boolean;
}

export class History {
  readonly ops: Op[] = [];
  private readonly observers: ((op: Op) => void)[] = [];

  constructor(private readonly now: () => number) {}

  record(
    process: string,
    type: OpType,
    f: OpName,
    details: { value?: number; token?: number | null; error?: string; detail?: string } = {},
  ): void {
    const op: Op = { index: this.ops.length, process, type, f, timeMs: this.now(), ...details };
    this.ops.push(op);
    for (const observer of this.observers) observer(op);
  }

  /** Add an operation recorded elsewhere, with its own time (a live client process's). */
  append(op: Omit<Op, 'index'>): void {
    const numbered: Op = { index: this.ops.length, ...op };
    this.ops.push(numbered);
    for (const observer of this.observers) observer(numbered);
  }

  /** Put operations in true-time order and number them again: live clients' ops arrive a little out of order. */
  sortByTime(): void {
    const sorted = this.ops.map((op, i) => ({ op, i })).sort((a, b) => a.op.timeMs - b.op.timeMs || a.i - b.i);
    this.ops.length = 0;
    sorted.forEach(({ op }, index) => this.ops.push({ ...op, index }));
  }

  /** Be told of every operation as it is recorded: event-triggered faults hang off this. */
  observe(observer: (op: Op) => void): void {
    this.observers.push(observer);
  }
}

/** A lock granted or an election won: the start of a believed-holding interval. */
export function isGrant(op: Op): boolean {
  return op.type === 'ok' && (op.f === 'acquire' || op.f === 'campaign');
}

/** An acquire or campaign started: the client is now waiting for the system's answer. */
export function isAttempt(op: Op): boolean {
  return op.type === 'invoke' && (op.f === 'acquire' || op.f === 'campaign');
}

/** A release or resignation invoked: the end of a believed-holding interval. */
export function isLetGo(op: Op): boolean {
  return op.type === 'invoke' && (op.f === 'release' || op.f === 'resign');
}

/** The client that holds the lock right now by the history (the last grant without a let-go or crash), if any. */
export function holderOf(history: History): string | null {
  const holding = new Set<string>();
  let last: string | null = null;
  for (const op of history.ops) {
    if (isGrant(op)) {
      holding.add(op.process);
      last = op.process;
    } else if (isLetGo(op) || op.f === 'crash') {
      holding.delete(op.process);
      if (last === op.process) last = null;
    }
  }
  return last !== null && holding.has(last) ? last : ([...holding][0] ?? null);
}
