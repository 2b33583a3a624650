/**
 * The footer `npm test` ends with: every test and suite the run skipped, grouped by reason, the
 * live tier's last, and how to run that tier when LIVE was not set. Node's own summary counts a
 * skipped suite as nothing ("# skipped 0" while the live tier skipped itself), and the tier's loud
 * line scrolls away in the middle of the run; this is the last thing a reader sees.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, relative, sep } from 'node:path';
import { LIVE_HOW_TO } from '../live/gate.ts';

/** One skipped test or suite, as scripts/skip-reporter.js writes it: where it is defined, its name, its reason. */
export interface SkippedTest {
  readonly file: string;
  readonly name: string;
  readonly reason: string;
}

/** The skips scripts/skip-reporter.js wrote to `file`, one JSON line each; none if it wrote nothing. */
export function readSkipped(file: string): SkippedTest[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as SkippedTest);
}

/** Whether a test belongs to the live tier: defined under live/ in `root`, or in a *.live.test.ts file. */
export function isLive(file: string, root: string): boolean {
  return relative(root, file).split(sep)[0] === 'live' || basename(file).endsWith('.live.test.ts');
}

/**
 * The footer's lines, each a TAP comment so a TAP reader takes it in stride: the count, then each
 * reason with the names it skipped (the live tier's last), then how to run the live tier if any of
 * it was skipped while LIVE was not set.
 */
export function skipFooter(skipped: readonly SkippedTest[], root: string, liveSet: boolean): string[] {
  if (skipped.length === 0) return ['# skipped: none'];
  const groups = new Map<string, { live: boolean; reason: string; names: string[] }>();
  for (const test of skipped) {
    const live = isLive(test.file, root);
    const key = `${live ? 'live' : 'other'} ${test.reason}`;
    const group = groups.get(key) ?? { live, reason: test.reason, names: [] };
    group.names.push(test.name);
    groups.set(key, group);
  }
  const ordered = [...groups.values()].sort((a, b) => Number(a.live) - Number(b.live));
  const lines = [`# skipped: ${skipped.length} (node's own count above leaves skipped suites out)`];
  for (const { live, reason, names } of ordered) {
    lines.push(`# ${names.length} skipped${live ? ' in the live tier' : ''} (${reason}):`);
    lines.push(...names.map((name) => `#   ${name}`));
  }
  if (!liveSet && ordered.some((group) => group.live)) lines.push(`# *** live tier SKIPPED: ${LIVE_HOW_TO} ***`);
  return lines;
}
