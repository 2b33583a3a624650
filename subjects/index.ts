/**
 * Subjects by name: the built-in ones (lock libraries people deploy, wrapped unchanged), or a
 * user's file that default-exports `defineSubject({...})`. `--subject` takes either.
 */
import { existsSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { installAmbient } from './ambient.ts';
import { isSubject, SubjectError, type SubjectDefinition } from './define.ts';

/** Loaders of the built-in subjects; each module is imported only when named. */
const BUILTIN: Readonly<Record<string, () => Promise<SubjectDefinition>>> = {
  'node-redlock': async () => (await import('./builtin/node-redlock.ts')).default,
  'redlock-v4': async () => (await import('./builtin/redlock-v4.ts')).default,
  'sesamecare-redlock': async () => (await import('./builtin/sesamecare-redlock.ts')).default,
  'redis-semaphore': async () => (await import('./builtin/redis-semaphore.ts')).redisSemaphoreMutex,
  'redis-semaphore-redlock': async () => (await import('./builtin/redis-semaphore.ts')).redisSemaphoreRedlockMutex,
  'etcd3-lock': async () => (await import('./builtin/etcd3-lock.ts')).default,
};

export const BUILTIN_SUBJECTS: readonly string[] = Object.keys(BUILTIN);

const EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];

const loaded = new Map<string, Promise<SubjectDefinition>>();

/** A subject as named on the command line (a built-in name or a file), and as loaded. */
export interface NamedSubject {
  readonly ref: string;
  readonly definition: SubjectDefinition;
}

/** A subject loaded from a file: the file, as given (results' subjectFile, what a replay names). */
export function subjectFileOf(ref: string): { subjectFile?: string } {
  return isSubjectFile(ref) ? { subjectFile: ref } : {};
}

/** Whether `ref` names a file rather than a built-in subject. */
export function isSubjectFile(ref: string): boolean {
  return !(ref in BUILTIN);
}

/**
 * The subject `ref` names: a built-in name, or a path to a subject file. Throws a SubjectError
 * naming the name or file and what was expected.
 */
export function loadSubject(ref: string): Promise<SubjectDefinition> {
  const key = ref in BUILTIN ? ref : resolve(ref);
  let subject = loaded.get(key);
  if (subject === undefined) {
    subject = load(ref, key);
    loaded.set(key, subject);
    // A failed load is not kept: the next call reports it again.
    subject.catch(() => loaded.delete(key));
  }
  return subject;
}

async function load(ref: string, key: string): Promise<SubjectDefinition> {
  // Before any library loads: some keep a global (a timer) from load time.
  installAmbient();
  const builtin = BUILTIN[ref];
  if (builtin !== undefined) return builtin();
  if (!EXTENSIONS.includes(extname(key)))
    throw new SubjectError(
      `--subject: '${ref}' is neither a built-in subject (${BUILTIN_SUBJECTS.join(', ')}) nor a ${EXTENSIONS.join('/')} file`,
    );
  if (!existsSync(key) || !statSync(key).isFile()) throw new SubjectError(`--subject: no such file: ${ref}`);
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(key).href)) as { default?: unknown };
  } catch (error) {
    throw new SubjectError(`${ref}: could not be loaded: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!isSubject(module.default))
    throw new SubjectError(`${ref}: the default export must be defineSubject({...}) (imported from 'lockstep')`);
  return module.default;
}
