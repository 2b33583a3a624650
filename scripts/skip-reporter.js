/**
 * A node:test reporter that writes each skipped test or suite as one JSON line, { file, name,
 * reason } (SkippedTest in skip-footer.ts), for scripts/test.ts to sum up once the run is over. It
 * reads the runner's events, not a reporter's text, so it finds every skip however it was made and
 * whatever reporter prints the run. JavaScript: the runner loads a reporter before tsx's hooks apply.
 *
 * @param {AsyncIterable<import('node:test/reporters').TestEvent>} events
 */
export default async function* skipReporter(events) {
  for await (const event of events) {
    // A skip is reported as a pass carrying `skip`: true, or the reason given.
    if (event.type !== 'test:pass' || event.data.skip === undefined || event.data.skip === false) continue;
    const { file, name, skip } = event.data;
    const reason = typeof skip === 'string' && skip !== '' ? skip : 'no reason given';
    yield `${JSON.stringify({ file: file ?? '', name, reason })}\n`;
  }
}
