/**
 * ZooKeeper's data tree and its sessions: the state machine every server applies, in log order,
 * to the same transactions. Deterministic and local: (tree, txn, zxid) -> (reply, what it deleted).
 *   - A sequential node's name ends in its parent's cversion, zero-padded to 10 digits; cversion
 *     counts every child created or deleted, so sequence numbers only increase (with gaps).
 *   - czxid is the zxid of the creating transaction: its log index, which increases with every
 *     committed transaction, writes among them.
 *   - Closing a session, by the client or by the leader's expiry, deletes its ephemerals.
 *   - A session is owned by the server its client last connected through. A request that comes
 *     through any other server (sent on an abandoned connection, delivered late) is refused with
 *     SessionMoved, as ZooKeeper's leader does, so it cannot act after the client moved on.
 *   - Reads are transactions too (see server.ts): they check their session like any request.
 */
import type { CreateMode, Created, Stat } from '../port.ts';
import { failure, ok, type Reply } from './protocol.ts';

/** Every transaction names the server it came through: null for the leader's own session expiry. */
export type Txn =
  | { readonly type: 'create-session'; readonly server: string; readonly timeoutMs: number }
  | { readonly type: 'resume-session'; readonly server: string; readonly session: number }
  | { readonly type: 'close-session'; readonly server: string | null; readonly session: number }
  | {
      readonly type: 'create';
      readonly server: string;
      readonly session: number;
      readonly path: string;
      readonly mode: CreateMode;
    }
  | { readonly type: 'delete'; readonly server: string; readonly session: number; readonly path: string }
  | { readonly type: 'children'; readonly server: string; readonly session: number; readonly path: string }
  | { readonly type: 'exists'; readonly server: string; readonly session: number; readonly path: string };

export interface Applied {
  readonly reply: Reply;
  /** Paths the transaction deleted, for the watches on them. */
  readonly deleted: readonly string[];
  readonly openedSession: { readonly id: number; readonly timeoutMs: number } | null;
  readonly closedSession: number | null;
}

interface Znode {
  readonly czxid: number;
  readonly ephemeralOwner: number | null;
  /** Children created or deleted so far: the next sequence number. */
  cversion: number;
  readonly children: Set<string>;
}

interface Session {
  readonly timeoutMs: number;
  /** The server the session's client is connected through. */
  owner: string;
  readonly ephemerals: Set<string>;
}

export type SessionStatus = 'live' | 'closed' | 'unknown';

const PATH = /^\/(?:[^/\u0000]+(?:\/[^/\u0000]+)*)?$/;

export class DataTree {
  private readonly nodes = new Map<string, Znode>([
    ['/', { czxid: 0, ephemeralOwner: null, cversion: 0, children: new Set() }],
  ]);
  private readonly sessions = new Map<number, Session>();
  private lastZxid = 0;

  apply(txn: Txn, zxid: number): Applied {
    this.lastZxid = zxid;
    const none = { deleted: [], openedSession: null, closedSession: null };
    if (txn.type === 'create-session') {
      this.sessions.set(zxid, { timeoutMs: txn.timeoutMs, owner: txn.server, ephemerals: new Set() });
      return { ...none, reply: ok({ session: zxid }), openedSession: { id: zxid, timeoutMs: txn.timeoutMs } };
    }
    const session = this.sessions.get(txn.session);
    if (session === undefined) return { ...none, reply: failure('SessionExpired', `session ${txn.session} has ended`) };
    if (txn.type === 'resume-session') {
      session.owner = txn.server;
      return { ...none, reply: ok({ session: txn.session }) };
    }
    if (txn.server !== null && txn.server !== session.owner) {
      return {
        ...none,
        reply: failure('SessionMoved', `session ${txn.session} is served by ${session.owner}, not ${txn.server}`),
      };
    }
    if (txn.type === 'close-session') {
      const deleted = this.closeSession(txn.session, session);
      return { ...none, reply: ok(null), deleted, closedSession: txn.session };
    }
    if (!PATH.test(txn.path)) return { ...none, reply: failure('BadArguments', `invalid path '${txn.path}'`) };
    switch (txn.type) {
      case 'create':
        return { ...none, reply: this.create(txn.session, session, txn.path, txn.mode, zxid) };
      case 'delete': {
        const reply = this.delete(txn.path);
        return { ...none, reply, deleted: reply.ok ? [txn.path] : [] };
      }
      case 'children': {
        const node = this.nodes.get(txn.path);
        return { ...none, reply: node === undefined ? failure('NoNode', txn.path) : ok([...node.children].sort()) };
      }
      case 'exists': {
        const node = this.nodes.get(txn.path);
        return { ...none, reply: ok(node === undefined ? null : ({ czxid: node.czxid } satisfies Stat)) };
      }
    }
  }

  /** live: open. closed: its opening transaction has been applied, and so has its end. unknown: not applied here yet. */
  sessionStatus(id: number): SessionStatus {
    if (this.sessions.has(id)) return 'live';
    return id <= this.lastZxid ? 'closed' : 'unknown';
  }

  /** Every open session with its timeout. */
  liveSessions(): [number, number][] {
    return [...this.sessions].map(([id, session]) => [id, session.timeoutMs]);
  }

  private create(session: number, record: Session, path: string, mode: CreateMode, zxid: number): Reply {
    if (path === '/') return failure('NodeExists', path);
    const parentPath = parentOf(path);
    const parent = this.nodes.get(parentPath);
    if (parent === undefined) return failure('NoNode', parentPath);
    if (parent.ephemeralOwner !== null) return failure('NoChildrenForEphemerals', parentPath);
    const full = mode === 'ephemeral-sequential' ? path + String(parent.cversion).padStart(10, '0') : path;
    if (this.nodes.has(full)) return failure('NodeExists', full);
    const owner = mode === 'persistent' ? null : session;
    this.nodes.set(full, { czxid: zxid, ephemeralOwner: owner, cversion: 0, children: new Set() });
    parent.children.add(full.slice(parentPath.length === 1 ? 1 : parentPath.length + 1));
    parent.cversion++;
    if (owner !== null) record.ephemerals.add(full);
    return ok({ path: full, czxid: zxid } satisfies Created);
  }

  private delete(path: string): Reply {
    const node = this.nodes.get(path);
    if (node === undefined || path === '/') return failure('NoNode', path);
    if (node.children.size > 0) return failure('NotEmpty', path);
    this.nodes.delete(path);
    const parentPath = parentOf(path);
    const parent = this.nodes.get(parentPath);
    if (parent === undefined) throw new Error(`zookeeper tree: '${path}' had no parent node`);
    parent.children.delete(path.slice(parentPath.length === 1 ? 1 : parentPath.length + 1));
    parent.cversion++;
    if (node.ephemeralOwner !== null) this.sessions.get(node.ephemeralOwner)?.ephemerals.delete(path);
    return ok(null);
  }

  /** End an open session (`record` is its entry) and delete its ephemerals, in path order. */
  private closeSession(id: number, record: Session): string[] {
    const paths = [...record.ephemerals].sort();
    for (const path of paths) this.delete(path);
    this.sessions.delete(id);
    return paths;
  }
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === 0 ? '/' : path.slice(0, slash);
}
