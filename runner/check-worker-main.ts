/** Inside a check worker: judge each scenario it is sent (is its run unsafe?) and send back the answers. */
import { parentPort } from 'node:worker_threads';
import { isUnsafe } from './check.ts';
import type { SystemId } from '../backends/recipe.ts';
import type { Scenario } from '../scenarios/schema.ts';

export interface JudgeRequest {
  readonly id: number;
  readonly scenario: Scenario;
  readonly seed: number;
  readonly system: SystemId;
  readonly fencing: boolean;
}

const port = parentPort;
if (port === null) throw new Error('check worker: loaded outside a worker thread');

const answer = async (request: JudgeRequest): Promise<void> => {
  try {
    port.postMessage({
      id: request.id,
      unsafe: await isUnsafe(request.scenario, request.seed, request.system, request.fencing),
    });
  } catch (error) {
    port.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) });
  }
};

port.on('message', (request: JudgeRequest) => void answer(request));
