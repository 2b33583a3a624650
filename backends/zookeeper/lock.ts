/**
 * The ZooKeeper lock recipe, as Curator's InterProcessMutex runs it: create an ephemeral
 * sequential node under the lock's path; list the children; if ours has the lowest sequence, the
 * lock is ours; otherwise watch the node just before ours, wait for it to go, and look again.
 * Watching only the predecessor wakes one waiter per release, not the whole queue.
 *   - Node names start with a random prefix (Curator's protection mode): after a create whose
 *     reply was lost, the client finds its node again instead of leaving an orphan that would
 *     block the lock for as long as its session lives.
 *   - The fencing token is the node's czxid, which is larger than that of every node created
 *     before it; grants go in sequence order, so each grant's token is larger than the last.
 *   - A grant is only as good as the session it was won in (client/hold.ts). Beyond Curator, the recipe
 *     will not grant on a listing older than the session timeout, which a pause between the reply
 *     and the decision would otherwise turn into a grant the session may no longer back. It cannot
 *     stop a holder that goes on working after its session expired; the token can, at the resource.
 *   - A node the recipe gives up on, or releases, is deleted with retries (Curator's guaranteed
 *     delete): one left behind in a live session would hold the lock for nobody.
 */
import type { Runtime } from '../runtime.ts';
import {
  RecipeConfigError,
  checkRecipeOptions,
  positive,
  type Grant,
  type LockRecipe,
  type RecipeOptions,
} from '../recipe.ts';
import { driftAllowanceMs } from '../lease.ts';
import { SessionHold } from './client/hold.ts';
import { isZooKeeperError, type Created, type ZooKeeperPort } from './port.ts';

export interface ZooKeeperLockOptions extends RecipeOptions {
  /** Wait after a request failed with its outcome unknown, before trying again (Curator's retry policy). */
  readonly retryDelayMs: number;
}

export interface ZooKeeperGrant extends Grant {
  /** The lock node, whose czxid is the token. */
  readonly path: string;
  /** Whether the session the lock was won in still vouches for it. */
  readonly hold: SessionHold;
}

/** One go at the queue: its session hold, its node's name prefix, and the node once known. */
interface Attempt {
  readonly hold: SessionHold;
  readonly prefix: string;
  node: Created | null;
  /** A create was sent whose outcome is unknown or known: the node may exist. */
  sent: boolean;
}

/** How often a node is deleted before giving up; by then its session has most likely ended, and taken it along. */
export const MAX_DELETE_TRIES = 5;

/** Failures after which the client has moved on (another server, another session): try again. */
const RETRYABLE = ['ConnectionLoss', 'SessionExpired', 'SessionMoved'] as const;

const LOCK_NODE = /^_c_[0-9a-f]+-lock-\d{10}$/;

export class ZooKeeperLock implements LockRecipe {
  /** The lock's path: the queue's parent node. */
  readonly path: string;
  private pathReady = false;

  constructor(
    private readonly runtime: Runtime,
    private readonly port: ZooKeeperPort,
    private readonly options: ZooKeeperLockOptions,
  ) {
    checkRecipeOptions(options);
    positive('retryDelayMs', options.retryDelayMs);
    if (options.name.split('/').some((segment) => segment.length === 0)) {
      throw new RecipeConfigError(
        `name must be a path of non-empty segments without a leading '/', got '${options.name}'`,
      );
    }
    this.path = `/${options.name}`;
  }

  async acquire(): Promise<ZooKeeperGrant | null> {
    const clock = this.runtime.clock;
    const deadlineMs = clock.monotonic() + this.options.acquireTimeoutMs;
    let attempt = this.newAttempt();
    while (clock.monotonic() < deadlineMs) {
      try {
        if (attempt.hold.isLost()) {
          this.abandon(attempt);
          attempt = this.newAttempt();
        }
        const grant = await this.step(attempt, deadlineMs);
        if (grant !== null) return grant;
      } catch (error) {
        if (!isZooKeeperError(error, ...RETRYABLE, 'NoNode')) throw error;
        // NoNode: someone deleted the lock's path under the queue; make it again.
        if (error.code === 'NoNode') this.pathReady = false;
        await clock.sleep(this.options.retryDelayMs);
      }
    }
    this.abandon(attempt);
    return null;
  }

  async release(grant: Grant): Promise<void> {
    const { hold, path } = grant as ZooKeeperGrant;
    hold.release();
    await this.removeNode(() => Promise.resolve(path));
  }

  /** Join the queue if not in it, and take the lock if first; else wait for the node ahead to go. null: look again. */
  private async step(attempt: Attempt, deadlineMs: number): Promise<ZooKeeperGrant | null> {
    await this.ensurePath();
    attempt.node ??= await this.createNode(attempt);
    const listedAtMs = this.runtime.clock.monotonic();
    const queue = (await this.port.getChildren(this.path)).filter((name) => LOCK_NODE.test(name)).sort(bySequence);
    const ours = queue.indexOf(attempt.node.path.slice(this.path.length + 1));
    if (ours < 0) {
      // Our node went with the session that made it: queue again, at the back.
      attempt.node = null;
      attempt.sent = false;
      return null;
    }
    if (ours === 0) {
      if (!attempt.hold.held()) {
        await this.runtime.clock.sleep(this.options.retryDelayMs);
        return null;
      }
      // A listing older than a session timeout (the client was paused before it could act on it)
      // proves nothing now: the session may have expired since, and taken our node with it.
      const timeoutMs = this.port.sessionTimeoutMs;
      if (this.runtime.clock.monotonic() - listedAtMs >= timeoutMs - driftAllowanceMs(timeoutMs)) return null;
      return {
        token: this.options.fencing ? attempt.node.czxid : null,
        validUntilMs: null,
        path: attempt.node.path,
        hold: attempt.hold,
        stillHeld: () => attempt.hold.held(),
      };
    }
    const ahead = queue[ours - 1];
    if (ahead === undefined) throw new Error(`zookeeper lock: no queue entry ahead of position ${ours}`);
    const watch = await this.port.existsWatch(`${this.path}/${ahead}`);
    const waitMs = deadlineMs - this.runtime.clock.monotonic();
    if (watch.stat === null || waitMs <= 0) return null;
    try {
      await this.runtime.deadline(() => watch.event, waitMs);
    } catch (error) {
      if ((error as Error).name !== 'TimeoutError') throw error;
    }
    return null;
  }

  private newAttempt(): Attempt {
    return {
      hold: new SessionHold(this.runtime.clock, this.port),
      prefix: `_c_${this.runtime.rng.hex(8)}-lock-`,
      node: null,
      sent: false,
    };
  }

  private async createNode(attempt: Attempt): Promise<Created> {
    if (attempt.sent) {
      const path = await this.findNode(attempt.prefix);
      const stat = path === null ? null : await this.port.exists(path);
      if (path !== null && stat !== null) return { path, czxid: stat.czxid };
    }
    attempt.sent = true;
    return this.port.create(`${this.path}/${attempt.prefix}`, 'ephemeral-sequential');
  }

  private async findNode(prefix: string): Promise<string | null> {
    const name = (await this.port.getChildren(this.path)).find((child) => child.startsWith(prefix));
    return name === undefined ? null : `${this.path}/${name}`;
  }

  /** Curator's creatingParentsIfNeeded: make every node on the lock's path. */
  private async ensurePath(): Promise<void> {
    if (this.pathReady) return;
    let path = '';
    for (const segment of this.options.name.split('/')) {
      path += `/${segment}`;
      try {
        await this.port.create(path, 'persistent');
      } catch (error) {
        if (!isZooKeeperError(error, 'NodeExists')) throw error;
      }
    }
    this.pathReady = true;
  }

  /** Leave the queue in the background; whatever cannot be deleted goes when its session ends. */
  private abandon(attempt: Attempt): void {
    attempt.hold.release();
    if (!attempt.sent) return;
    const node = attempt.node;
    this.runtime.spawn('zookeeper-lock-abandon', async () => {
      try {
        await this.removeNode(() => (node === null ? this.findNode(attempt.prefix) : Promise.resolve(node.path)));
      } catch {
        // Out of tries: the node's session, once it ends, removes it.
      }
    });
  }

  /** Delete the node `locate` finds, retrying while the outcome is unknown; gone already is fine. */
  private async removeNode(locate: () => Promise<string | null>): Promise<void> {
    for (let tries = 1; ; tries++) {
      try {
        const path = await locate();
        if (path !== null) await this.port.delete(path);
        return;
      } catch (error) {
        if (isZooKeeperError(error, 'NoNode')) return;
        if (!isZooKeeperError(error, ...RETRYABLE) || tries >= MAX_DELETE_TRIES) throw error;
        await this.runtime.clock.sleep(this.options.retryDelayMs);
      }
    }
  }
}

/** Lock nodes in queue order: by the 10-digit sequence at the end of the name. */
function bySequence(a: string, b: string): number {
  const x = a.slice(-10);
  const y = b.slice(-10);
  return x < y ? -1 : x > y ? 1 : 0;
}
