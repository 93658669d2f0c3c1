import { readFile } from 'node:fs/promises'
import { writeFileAtomic } from './atomic-write.js'

/**
 * SystemImager's cluster.txt with the nodes assigned to their images: every existing line of those nodes is dropped
 * (matched on the whole name before the first ':', so node1 never touches node10) and `<node>:compute:<image>:` added.
 */
export function assignNodes(existing: string, assignments: ReadonlyMap<string, string>): string {
  const kept = existing.split('\n').filter((line) => line !== '' && !assignments.has(line.slice(0, line.indexOf(':') < 0 ? line.length : line.indexOf(':'))))
  for (const [node, image] of assignments) kept.push(`${node}:compute:${image}:`)
  return kept.length ? `${kept.join('\n')}\n` : ''
}

/** Rewrites `<scripts>/cluster.txt` once for all nodes of a request. */
export async function updateClusterTxt(path: string, assignments: ReadonlyMap<string, string>): Promise<void> {
  let existing = ''
  try {
    existing = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  await writeFileAtomic(path, assignNodes(existing, assignments))
}
