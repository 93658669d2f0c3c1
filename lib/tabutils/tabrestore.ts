import { all, first, type XcatRequest } from '../protocol/types.js'
import type { PluginContext } from '../server/plugin.js'
import { errorResponse } from '../server/respond.js'
import { parseCsvHeader, parseCsvRecords } from '../table/csv.js'
import { TABLES } from '../table/schema.js'

/**
 * tabrestore: replaces (or with addrows, extends) a table with CSV lines in tabdump's format. The whole restore is one
 * transaction; any bad line reports its error and nothing changes.
 */
export async function tabrestore(req: XcatRequest, ctx: PluginContext): Promise<void> {
  const table = first(req.table) ?? ''
  if (!Object.hasOwn(TABLES, table)) return ctx.respond(errorResponse(`Unable to open ${table}`, 4))
  const lines = all(req.data).join('').split('\n')
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop()
  const header = parseCsvHeader(lines[0], table, TABLES[table]?.cols ?? [])
  if ('message' in header) return ctx.respond(errorResponse(header.message, header.errorcode))
  const { records, problems } = parseCsvRecords(lines.slice(1), header.cols)
  if (problems.length > 0) {
    for (const p of problems) ctx.respond(errorResponse(p.message, p.errorcode))
    return
  }
  const addrows = first(req.addrows) !== undefined
  const rows = records.filter((r) => Object.values(r.values).some((v) => v !== null))
  const failures: string[] = []
  await ctx.tables
    .transaction([table], async (tx) => {
      if (!addrows) await tx.delEntries(table)
      for (const record of rows) {
        try {
          await tx.insert(table, record.values)
        } catch (err) {
          failures.push(`DB error ${(err as Error).message.replace(/^Database error: /, '')} with line ${record.line}: ${record.text}`)
          if (ctx.tables.driver.dialect.name === 'pg') break
        }
      }
      if (failures.length > 0) throw new RestoreFailed()
    })
    .catch((err: unknown) => {
      if (!(err instanceof RestoreFailed)) throw err
    })
  for (const f of failures) ctx.respond(errorResponse(f, 4))
}

class RestoreFailed extends Error {}
