/**
 * The SessionPort contract on a real database connection, shared by the PostgreSQL and MySQL live
 * ports, so both keep the sim port's semantics (dbsession/sim-port.ts) the same way:
 *   - one dedicated connection per session, opened by the first call after the port was made, after
 *     disconnect(), or after the session was lost;
 *   - session() names the session calls go on now, and changes once that session is over (the
 *     client dropped it, or the connection closed or failed under it);
 *   - a call goes out when it is made (hot); calls on one session run in the order they were made,
 *     a statement waiting for a lock holding up the later ones, as a database session does;
 *   - a call gets no answer within its deadline: TimeoutError, and the session is kept, as the sim
 *     port keeps it: the statement may still be running, and the recipe decides whether to end it;
 *   - the connection closes, resets or cannot be opened: every call on it fails with ConnectionLost
 *     and the session is over. The server answering with an error is a RemoteError.
 */
import { ConnectionLost, RemoteError, TimeoutError } from '../../errors.ts';
import type { SessionPort } from './port.ts';

/** One connection being opened or open: its driver handle once ready, and how to drop it at once. */
export interface DriverConnection<C> {
  readonly ready: Promise<C>;
  /** Close the socket now, without waiting for the statement running on it. */
  destroy(): void;
}

interface Session<C> {
  readonly name: string;
  readonly connection: DriverConnection<C>;
  over: boolean;
  /** Fail functions of the calls in flight on this session. */
  readonly pending: Set<(error: Error) => void>;
}

let sessionsOpened = 0;

export abstract class LiveSessionPort<C> implements SessionPort {
  private name: string;
  private current: Session<C> | null = null;

  constructor(
    /** Names the system and server in errors: e.g. postgres 127.0.0.1:5432. */
    protected readonly label: string,
    private readonly queryTimeoutMs: number,
  ) {
    this.name = this.freshName();
  }

  session(): string {
    return this.name;
  }

  ping(): Promise<void> {
    return this.call(this.queryTimeoutMs, (connection) => this.selectOne(connection));
  }

  disconnect(): void {
    const session = this.current;
    if (session === null) {
      this.name = this.freshName();
      return;
    }
    this.end(session, new ConnectionLost(`${this.label}: session ${session.name} closed by the client`));
  }

  /** Open a connection; report `lost` once if it closes or fails, whenever that happens. */
  protected abstract open(lost: (error: unknown) => void): DriverConnection<C>;

  /** SELECT 1 on the connection. */
  protected abstract selectOne(connection: C): Promise<void>;

  /** Whether `error` from a statement is the server's answer (true) rather than a connection failure. */
  protected abstract isServerError(error: unknown): boolean;

  /** Run `statement` on the current session (opening it if need be), failing after `timeoutMs`. */
  protected call<T>(timeoutMs: number, statement: (connection: C) => Promise<T>): Promise<T> {
    const session = this.current ?? this.start();
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = (finish: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        session.pending.delete(fail);
        finish();
      };
      const fail = (error: Error) => settle(() => reject(error));
      const timer = setTimeout(
        () => fail(new TimeoutError(`${this.label}: no reply on session ${session.name} within ${timeoutMs}ms`)),
        timeoutMs,
      );
      session.pending.add(fail);
      session.connection.ready.then(statement).then(
        (value) => settle(() => resolve(value)),
        (error: unknown) => fail(this.classify(session, error)),
      );
    });
  }

  private start(): Session<C> {
    const name = this.name;
    const session: Session<C> = {
      name,
      over: false,
      pending: new Set(),
      connection: this.open((error) =>
        this.end(
          session,
          new ConnectionLost(`${this.label}: session ${name} lost: ${describe(error)}`, { cause: error }),
        ),
      ),
    };
    session.connection.ready.catch(() => {});
    this.current = session;
    return session;
  }

  private classify(session: Session<C>, error: unknown): Error {
    if (!session.over && error instanceof RemoteError) return error;
    if (!session.over && this.isServerError(error))
      return new RemoteError(`${this.label}: ${describe(error)}`, { cause: error });
    const lost = new ConnectionLost(`${this.label}: session ${session.name} lost: ${describe(error)}`, {
      cause: error,
    });
    this.end(session, lost);
    return lost;
  }

  /** The session is over: fail its calls, drop its connection, and name the next one. */
  private end(session: Session<C>, error: ConnectionLost): void {
    if (session.over) return;
    session.over = true;
    if (this.current === session) {
      this.current = null;
      this.name = this.freshName();
    }
    for (const fail of [...session.pending]) fail(error);
    session.connection.destroy();
  }

  private freshName(): string {
    return `${this.label}#${++sessionsOpened}`;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
