// A worker thread for `lockstep check --workers N`: load the TypeScript sources, then judge.
import { register } from 'tsx/esm/api';

register();
await import('./check-worker-main.ts');
