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
export type OpName = 'acquire' | 'release' | 'read' | 'write' | 'campaign' | 'resign' | 'crash' | 'fault-start' | 'fault-end';

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

  record(process: string, type: OpType, f: OpName, details: { value?: number; token?: number | null; error?: string; detail?: string } = {}): void {
    const op: Op = { index: this.ops.length, process, type, f, timeMs: this.now(), ...details };
    this.ops.push(op);
    for (const observer of this.observers) observer(op);
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

/** A release or resignation invoked: the end of a believed-holding interval. */
export function isLetGo(op: Op): boolean {
  return op.type === 'invoke' && (op.f === 'release' || op.f === 'resign');
}
