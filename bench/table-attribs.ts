import { performance } from 'node:perf_hooks'
import { BACKENDS, createTestDatabase } from '../test/helpers/databases.js'

const NODES = 10_000
const RUNS = 7

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const samples: number[] = []
  await fn()
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now()
    await fn()
    samples.push(performance.now() - start)
  }
  return median(samples)
}

/** getNodesAttribs for 10,000 nodes x 5 attributes with group inheritance and regex values, per backend. */
export async function benchTableAttribs(): Promise<void> {
  console.log(`getNodesAttribs: ${NODES} nodes x 5 attributes (group inheritance, regex values); median of ${RUNS}`)
  console.log('backend   getNodesAttribs   raw reads (baseline)   ratio')
  for (const backend of BACKENDS) {
    const db = await createTestDatabase(backend)
    const tables = db.open()
    try {
      const nodes = Array.from({ length: NODES }, (_, i) => `node${String(i + 1).padStart(5, '0')}`)
      await tables.setMany('nodelist', nodes.map((node, i) => ({ keys: { node }, values: { groups: `rack${String(i % 50).padStart(2, '0')},compute,all` } })))
      await tables.setMany('noderes', [
        { keys: { node: 'compute' }, values: { netboot: 'xnba', xcatmaster: '|\\D+(\\d+)|10.0.(($1-1)/250).(($1-1)%250+1)|', tftpserver: '10.0.0.1', installnic: 'mac' } },
        { keys: { node: 'all' }, values: { primarynic: 'mac' } },
        ...Array.from({ length: 50 }, (_, r) => ({ keys: { node: `rack${String(r).padStart(2, '0')}` }, values: { tftpserver: `|\\D+(\\d+)|sn${r}-($1%4)|` } })),
        ...nodes.filter((_, i) => i % 10 === 0).map((node) => ({ keys: { node }, values: { netboot: 'grub2' } })),
      ])
      const cols = ['netboot', 'xcatmaster', 'tftpserver', 'installnic', 'primarynic']
      const check = await tables.getNodesAttribs('noderes', nodes, cols)
      if (check.get('node00001')?.netboot !== 'grub2' || check.get('node00300')?.xcatmaster !== '10.0.1.50') throw new Error('benchmark data resolved wrongly')
      const ms = await time(() => tables.getNodesAttribs('noderes', nodes, cols))
      const raw = await time(async () => {
        await tables.driver.all('nodelist', 'SELECT * FROM nodelist')
        await tables.driver.all('noderes', 'SELECT * FROM noderes')
      })
      console.log(`${backend.padEnd(9)} ${ms.toFixed(1).padStart(12)} ms ${raw.toFixed(1).padStart(17)} ms ${(ms / raw).toFixed(2).padStart(10)}x`)
    } finally {
      await tables.close()
      await db.drop()
    }
  }
}
