/**
 * A pool of worker threads that run simulations in parallel: `check` judges candidates with it and
 * `compare` runs its campaign. It only spreads the work: each answer is what the same run gives
 * on one thread, and answers come back in the order asked, so nothing a seed decides depends on
 * how many workers there are. A free worker takes the next run, so a slow run holds up one worker,
 * not a share of the batch.
 */
import { Worker } from 'node:worker_threads';
import type { SystemId } from '../backends/recipe.ts';
import type { Scenario } from '../scenarios/schema.ts';
import type { RunRequest, RunSummary } from './run-summary.ts';
import type { WorkerAnswer, WorkerRequest } from './check-worker-main.ts';

export class RunPool {
  private readonly workers: Worker[];
  private nextId = 0;
  private readonly waiting = new Map<
    number,
    { resolve: (summary: RunSummary) => void; reject: (error: Error) => void }
  >();
  private readonly queue: { request: RunRequest; resolve: (s: RunSummary) => void; reject: (e: Error) => void }[] = [];
  private readonly busy = new Set<Worker>();

  constructor(size: number) {
    this.workers = Array.from({ length: size }, () => {
      const worker = new Worker(new URL('./check-worker.js', import.meta.url));
      worker.on('message', (answer: WorkerAnswer) => {
        const waiting = this.waiting.get(answer.id);
        this.waiting.delete(answer.id);
        this.busy.delete(worker);
        if (answer.error !== undefined) waiting?.reject(new Error(answer.error));
        else if (answer.summary !== undefined) waiting?.resolve(answer.summary);
        this.dispatch();
      });
      worker.on('error', (error) => {
        for (const w of this.waiting.values()) w.reject(error);
        this.waiting.clear();
        for (const q of this.queue.splice(0)) q.reject(error);
      });
      return worker;
    });
  }

  get size(): number {
    return this.workers.length;
  }

  /** Run each request; the summaries come back in the order of the requests. */
  summaries(requests: readonly RunRequest[]): Promise<RunSummary[]> {
    const all = Promise.all(
      requests.map(
        (request) => new Promise<RunSummary>((resolve, reject) => this.queue.push({ request, resolve, reject })),
      ),
    );
    this.dispatch();
    return all;
  }

  /** Judge a batch of check candidates: true where the run was unsafe, in the batch's order. */
  judge = async (
    scenarios: readonly Scenario[],
    seed: number,
    system: SystemId,
    fencing: boolean,
    subject: string | null = null,
  ): Promise<boolean[]> =>
    (await this.summaries(scenarios.map((scenario) => ({ scenario, seed, system, fencing, subject })))).map(
      (s) => s.verdict === 'unsafe',
    );

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private dispatch(): void {
    for (const worker of this.workers) {
      if (this.busy.has(worker)) continue;
      const next = this.queue.shift();
      if (next === undefined) return;
      const id = this.nextId++;
      this.busy.add(worker);
      this.waiting.set(id, { resolve: next.resolve, reject: next.reject });
      worker.postMessage({ id, ...next.request } satisfies WorkerRequest);
    }
  }
}
