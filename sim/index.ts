export { Sim, type SimOptions, type NodeOptions, type RunSummary, type PartitionOptions } from './sim.ts';
export { Kernel, type KernelOptions } from './kernel.ts';
export { Future } from './future.ts';
export {
  Host,
  NodeRuntime,
  type CrashHandler,
  type HostFactory,
  type MessageHandler,
  type NodeState,
  type SendOptions,
  type Timer,
} from './node.ts';
export {
  Network,
  type LinkConfig,
  type LinkState,
  type Latency,
  type Message,
  type PartitionMode,
  type Layer,
} from './network.ts';
export { NodeClock, type Clock, type ClockConfig } from './clock.ts';
export { Rng } from './rng.ts';
export { Trace, type TraceEntry, describeEntry } from './trace.ts';
export { checkDeterminism, compareTraces, type DeterminismReport } from './determinism.ts';
export * from './errors.ts';
