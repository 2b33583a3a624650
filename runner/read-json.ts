/**
 * Reading a JSON file of a run directory, which may have been written by anyone: refused before it
 * is read when it is not a regular file or is larger than its limit, parsed, and validated against
 * the results contract; any problem is a ReportError naming the file, the line or field, and what
 * was expected. The report and `lockstep merge` read through here.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import type { z } from 'zod';

export class ReportError extends Error {
  override name = 'ReportError';
}

/** The largest results.json read: about 70,000 runs, far more than any real run directory holds. */
export const MAX_RESULTS_BYTES = 64 * 1024 * 1024;

/** A JSON file of a run directory, read within `limitBytes` and validated by `schema`; a ReportError names what is wrong. */
export function readJsonFile<T extends z.ZodType>(
  file: string,
  schema: T,
  limitBytes = MAX_RESULTS_BYTES,
): z.output<T> {
  return validate(file, '', schema, parseJson(file, '', readBounded(file, limitBytes)));
}

export function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ReportError(`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}

/**
 * The file's text, refused before a byte is read when it is not a regular file (a FIFO would block
 * and /dev/zero never ends) or is larger than `limitBytes`. The check is made on the path, so no
 * device is even opened, and again on the opened descriptor, so a file swapped in between is caught;
 * no more than the size checked is read, so a file that grows meanwhile cannot exceed the limit.
 */
export function readBounded(file: string, limitBytes: number): string {
  checkReadable(file, statOrNull(file), limitBytes);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw new ReportError(`${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  try {
    const stats = fstatSync(fd);
    checkReadable(file, stats, limitBytes);
    const buffer = Buffer.alloc(stats.size);
    let filled = 0;
    for (let n = -1; n !== 0 && filled < buffer.length; filled += n)
      n = readSync(fd, buffer, filled, buffer.length - filled, filled);
    return buffer.subarray(0, filled).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function checkReadable(file: string, stats: Stats | null, limitBytes: number): void {
  if (stats === null) throw new ReportError(`${file}: no such file`);
  if (!stats.isFile())
    throw new ReportError(`${file}: not a regular file (a directory, FIFO, socket or device is never read)`);
  if (stats.size > limitBytes)
    throw new ReportError(
      `${file}: ${stats.size} bytes, larger than the limit of ${limitBytes} bytes (${limitBytes / 1024 / 1024} MiB)`,
    );
}

export function parseJson(file: string, where: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ReportError(`${at(file, where)}not valid JSON (${plain((error as Error).message)})`);
  }
}

export function validate<T extends z.ZodType>(file: string, where: string, schema: T, data: unknown): z.output<T> {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue === undefined) throw new ReportError(`${at(file, where)}invalid, and zod named no issue`);
  const path = formatPath(issue.path);
  throw new ReportError(`${at(file, where)}${path === '' ? '' : `${path}: `}${describeIssue(issue)}`);
}

function at(file: string, where: string): string {
  return where === '' ? `${file}: ` : `${file}: ${where}: `;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`)).join('');
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message))
    return `missing; expected ${article(issue.expected)}`;
  if (issue.code === 'invalid_type' && issue.message.startsWith('Invalid input'))
    return `expected ${article(issue.expected)}`;
  if (issue.code === 'invalid_value') return `expected one of ${issue.values.map((v) => `'${String(v)}'`).join(', ')}`;
  return plain(issue.message);
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

/** Error text that may quote the file: control characters (a newline, a terminal escape) taken out, so the message stays one plain line. */
function plain(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
}
