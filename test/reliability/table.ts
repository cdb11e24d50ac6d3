/**
 * The one table the reliability run and the soak print (and docs/reliability.md keeps).
 */
export interface ReliabilityRow {
  framesFuzzed: number;
  callsFuzzed: number;
  connections: number;
  faultsInjected: number;
  internalErrors: number;
  crashes: number;
  leakedObjects: number;
  leakedFds: number;
  leakedPages: number;
  heapBeforeMB: number;
  heapAfterMB: number;
  framesLost: number;
}

const HEADINGS: [keyof ReliabilityRow, string][] = [
  ['framesFuzzed', 'frames fuzzed'],
  ['callsFuzzed', 'calls fuzzed'],
  ['connections', 'connections'],
  ['faultsInjected', 'faults injected'],
  ['internalErrors', 'internal errors'],
  ['crashes', 'crashes'],
  ['leakedObjects', 'leaked objects'],
  ['leakedFds', 'leaked fds'],
  ['leakedPages', 'leaked pages'],
  ['heapBeforeMB', 'heap before (MB)'],
  ['heapAfterMB', 'heap after (MB)'],
  ['framesLost', 'frames lost'],
];

/** A Markdown table: one heading row, one value row. */
export function formatTable(row: ReliabilityRow): string {
  const cells = HEADINGS.map(([k]) => {
    const v = row[k];
    return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(1);
  });
  return [`| ${HEADINGS.map(([, h]) => h).join(' | ')} |`, `|${HEADINGS.map(() => '---:').join('|')}|`, `| ${cells.join(' | ')} |`].join('\n');
}
