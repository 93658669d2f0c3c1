import { benchTableAttribs } from './table-attribs.js'

const BENCHES: Record<string, () => Promise<void>> = { 'table-attribs': benchTableAttribs }

const only = process.argv.slice(2)
for (const [name, bench] of Object.entries(BENCHES)) {
  if (only.length && !only.includes(name)) continue
  await bench()
  console.log('')
}
