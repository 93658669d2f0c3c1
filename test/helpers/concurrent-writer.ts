import { applyAssignments, parseAssignments } from '../../lib/tabutils/table-change.js'
import { driverFor } from '../../lib/table/open-tables.js'
import { parseDbLocation } from '../../lib/table/cfgloc.js'
import { Tables } from '../../lib/table/tables.js'

const [location = '', id = '0', count = '10'] = process.argv.slice(2)
const tables = new Tables(driverFor(parseDbLocation(location)))
try {
  for (let i = 0; i < Number(count); i++) {
    await tables.setAttribs('site', { key: `w${id}_${i}` }, { value: String(i) })
    await applyAssignments(tables, { key: 'shared' }, parseAssignments([`site.value+=p${id}i${i}`], { key: 'shared' }))
    // Every writer appends to the same new row at about the same time: the row is created in a race.
    await applyAssignments(tables, { key: `race${i}` }, parseAssignments([`site.value+=p${id}`], { key: `race${i}` }))
  }
} finally {
  await tables.close()
}
