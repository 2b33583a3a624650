/**
 * A pool of worker threads that judge check candidates in parallel. It only spreads the work:
 * which candidate fails first, and how it shrinks, is decided by the engine from the seed.
 */
import { Worker } from 'node:worker_threads';
import type { SystemId } from '../backends/recipe.ts';
import type { Scenario } from '../scenarios/schema.ts';
import type { JudgeRequest } from './check-worker-main.ts';

type Answer = { id: number; unsafe?: boolean; error?: string };

export class JudgePool {
  private readonly workers: Worker[];
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (unsafe: boolean) => void; reject: (error: Error) => void }>();

  constructor(size: number) {
    this.workers = Array.from({ length: size }, () => {
      const worker = new Worker(new URL('./check-worker.js', import.meta.url));
      worker.on('message', (answer: Answer) => {
        const waiting = this.waiting.get(answer.id);
        this.waiting.delete(answer.id);
        if (answer.error !== undefined) waiting?.reject(new Error(answer.error));
        else waiting?.resolve(answer.unsafe === true);
      });
      worker.on('error', (error) => {
        for (const w of this.waiting.values()) w.reject(error);
        this.waiting.clear();
      });
      return worker;
    });
  }

  get size(): number {
    return this.workers.length;
  }

  /** Judge a batch, one candidate per worker in turn; answers come back in the batch's order. */
  judge = (scenarios: readonly Scenario[], seed: number, system: SystemId, fencing: boolean): Promise<boolean[]> =>
    Promise.all(
      scenarios.map(
        (scenario, i) =>
          new Promise<boolean>((resolve, reject) => {
            const worker = this.workers[i % this.workers.length];
            if (worker === undefined) throw new Error('check pool: a pool of no workers cannot judge');
            const id = this.nextId++;
            this.waiting.set(id, { resolve, reject });
            worker.postMessage({
              id,
              scenario,
              seed,
              system,
              fencing,
            } satisfies JudgeRequest);
          }),
      ),
    );

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}
