// A worker thread of the run pool (check --workers, compare --workers): load the TypeScript sources, then run.
import { register } from 'tsx/esm/api';

register();
await import('./check-worker-main.ts');
