/** Recording one operation on the protected register, shared by every workload. */
import type { History } from './history.ts';
import type { RegisterReply } from './register.ts';

/** One register operation, recorded; the value it returned, or null if it failed or is unknown. */
export async function registerStep(
  history: History,
  process: string,
  f: 'read' | 'write',
  details: { value?: number; token: number | null },
  call: () => Promise<RegisterReply>,
): Promise<number | null> {
  history.record(process, 'invoke', f, details);
  try {
    const reply = await call();
    if (!reply.ok) {
      history.record(process, 'fail', f, { ...details, error: reply.reason });
      return null;
    }
    history.record(process, 'ok', f, { ...details, value: reply.value });
    return reply.value;
  } catch (error) {
    history.record(process, 'info', f, { ...details, error: describe(error) });
    return null;
  }
}

export function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
