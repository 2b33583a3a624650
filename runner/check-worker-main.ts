/** Inside a pool worker: run each scenario it is sent and send back the run's summary. */
import { parentPort } from 'node:worker_threads';
import { summarizeRun, type RunRequest, type RunSummary } from './run-summary.ts';

export interface WorkerRequest extends RunRequest {
  readonly id: number;
}

export interface WorkerAnswer {
  readonly id: number;
  readonly summary?: RunSummary;
  readonly error?: string;
}

const port = parentPort;
if (port === null) throw new Error('pool worker: loaded outside a worker thread');

const answer = async (request: WorkerRequest): Promise<void> => {
  try {
    port.postMessage({ id: request.id, summary: await summarizeRun(request) } satisfies WorkerAnswer);
  } catch (error) {
    port.postMessage({
      id: request.id,
      error: error instanceof Error ? error.message : String(error),
    } satisfies WorkerAnswer);
  }
};

port.on('message', (request: WorkerRequest) => void answer(request));
