import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { basename, isAbsolute, join } from 'node:path'
import { getopt, GetoptError } from '../getopt.js'
import { detectHostFacts, initDatabase } from '../setup/init-database.js'
import { setupClientCredentials, setupServerCredentials } from '../setup/setup-node.js'
import { openTables } from '../table/open-tables.js'
import { applyAssignments, deleteRows, parseAssignments, parseKeyPairs, TableChangeError } from '../tabutils/table-change.js'
import { VERSION, versionString } from '../version.js'
import { submitAndPrint, type CommandIo } from './main.js'

const TABRESTORE_USAGE = 'Usage: tabrestore <tablename>.csv\n       tabrestore -a <tablename>.csv\n       tabrestore [-?|-h|--help]\n       tabrestore [-v|--version]\n'

/** tabrestore's own client: reads the CSV file and sends its lines; the table is the file name up to its first dot. */
export async function tabrestoreClient(argv: readonly string[], io: CommandIo): Promise<number> {
  let parsed
  try {
    parsed = getopt(argv, ['h|?|help', 'v|version', 'a|addrows'])
  } catch (err) {
    if (!(err instanceof GetoptError)) throw err
    io.out.stderr(`Unknown option: ${err.message.replace(/^Unknown option: /, '')}\n`)
    io.out.stdout(TABRESTORE_USAGE)
    return 1
  }
  const { opts, args } = parsed
  if (opts.v) {
    io.out.stdout(`${versionString()}\n`)
    return 0
  }
  if (opts.h) {
    io.out.stdout(TABRESTORE_USAGE)
    return 0
  }
  const file = args.find((a) => !a.startsWith('-'))
  if (file === undefined) {
    io.out.stdout(TABRESTORE_USAGE)
    return 2
  }
  let text: string
  try {
    text = readFileSync(isAbsolute(file) ? file : join(io.cwd, file), 'utf8')
  } catch {
    io.out.stdout(`Error: Unable to open ${file} for reading.\n`)
    return 3
  }
  const lines = text.split(/(?<=\n)/)
  const request = { command: ['tabrestore'], table: [basename(file).replace(/\..*/s, '')], data: lines, ...(opts.a ? { addrows: ['yes'] } : {}) }
  return submitAndPrint(request, io)
}

const CHTAB_USAGE = `Usage:
 To add or update rows for tables:
   chtab keycolname=keyvalue[,keycolname=keyvalue...] tablename.colname=newvalue [tablename.colname=newvalue...]
 To delete rows from tables:
   chtab -d|--delete keycolname=keyvalue[,keycolname=keyvalue...] tablename [tablename...]
 To display usage and other information:
   chtab [-h|--help|-v|--Version]

   -d|--delete  Delete the rows from a list of tables.
   -v|--version Display the version of this command.
   -h|--help    Display this usage information.
   keycolname=keyvalue   a column name-and-value pair that identifies the rows in a table to be changed.
   tablename.colname=newvalue    the new value for the specified row and column of the table.
`

/** chtab: changes table rows directly in the database, bypassing xcatd and its policy, as xCAT's chtab does. */
export async function chtab(argv: readonly string[], io: CommandIo): Promise<number> {
  let parsed
  try {
    parsed = getopt(argv, ['d|delete', 'h|help', 'v|version'])
  } catch (err) {
    if (!(err instanceof GetoptError)) throw err
    io.out.stdout(CHTAB_USAGE)
    return 1
  }
  const { opts, args } = parsed
  if (opts.h) {
    io.out.stdout(CHTAB_USAGE)
    return 0
  }
  if (opts.v) {
    io.out.stdout(`chtab Version ${VERSION}\n`)
    return 0
  }
  const [target, ...rest] = args
  if (target === undefined) {
    io.out.stdout(CHTAB_USAGE)
    return 1
  }
  if (process.getuid?.() !== 0) io.out.stdout('WARNING: chtab bypasses xcatd and does not enforce xCAT policy tables. Consider using tabch instead.\n')
  const tables = openTables(io.env)
  try {
    const keys = parseKeyPairs(target)
    if (opts.d) {
      if (rest.length === 0) {
        io.out.stdout(`Missing table name.\n${CHTAB_USAGE}`)
        return 1
      }
      const unknown = await deleteRows(tables, keys, rest)
      for (const t of unknown) io.out.stdout(`Table ${t} does not exist.\n`)
      return unknown.length ? 1 : 0
    }
    await applyAssignments(tables, keys, parseAssignments(rest, keys))
    return 0
  } catch (err) {
    if (err instanceof TableChangeError) {
      io.out.stdout(`${err.message}\n${err.message.startsWith('Incorrect argument') ? CHTAB_USAGE : ''}`)
      return 1
    }
    io.out.stderr(`Error: ${err instanceof Error ? err.message : String(err)}\n`)
    return 1
  } finally {
    await tables.close()
  }
}

const XCATCONFIG_USAGE = `Usage:
xcatconfig - Performs basic xCAT setup operations on an xCAT management node. Only the -t option should be used on a Service Node.
xcatconfig [-h|--help]
xcatconfig [-v|--version]
xcatconfig [-f|--force] [-V|--verbose]
xcatconfig [-i|--initinstall] [-V|--verbose]
xcatconfig [-u|--updateinstall] [-V|--verbose]
xcatconfig [-k|--sshkeys] [-s|--sshnodehostkeys] [-c|--credentials] [-d|database] [-m|mgtnode] [-t|tunables] [-V|--verbose]
`

/** xcatconfig: management-node setup: `-d` default rows, `-c` credentials, `-s` server credentials, `-i` all of them. */
export async function xcatconfig(argv: readonly string[], io: CommandIo): Promise<number> {
  let parsed
  try {
    parsed = getopt(argv, ['h|help', 'v|version', 'd|database', 'c|credentials', 's|sshnodehostkeys', 'i|initinstall', 'V|verbose', 'installdir=s', 'tftpdir=s'])
  } catch (err) {
    if (!(err instanceof GetoptError)) throw err
    io.out.stdout(XCATCONFIG_USAGE)
    return 1
  }
  const { opts } = parsed
  if (opts.v) {
    io.out.stdout(`${versionString()}\n`)
    return 0
  }
  if (opts.h || !(opts.d || opts.c || opts.s || opts.i)) {
    io.out.stdout(XCATCONFIG_USAGE)
    return opts.h ? 0 : 1
  }
  const tables = openTables(io.env)
  const say = (text: string) => opts.V && io.out.stdout(`${text}\n`)
  try {
    if (opts.d || opts.i) {
      const facts = await detectHostFacts({
        ...(typeof opts.installdir === 'string' ? { installdir: opts.installdir } : {}),
        ...(typeof opts.tftpdir === 'string' ? { tftpdir: opts.tftpdir } : {}),
      })
      await initDatabase(tables, facts)
      say('Created the xCAT tables with their default rows.')
    }
    if (opts.c || opts.s || opts.i) {
      const confdir = await setupServerCredentials(tables, Boolean(opts.c || opts.s))
      say(`Created the server credentials in ${confdir}/cert.`)
    }
    if (opts.c || opts.i) {
      await setupClientCredentials(tables, io.env.HOME ?? homedir(), Boolean(opts.c))
      say(`Created the client credentials in ${io.env.HOME ?? homedir()}/.xcat.`)
    }
    return 0
  } catch (err) {
    io.out.stderr(`Error: ${err instanceof Error ? err.message : String(err)}\n`)
    return 1
  } finally {
    await tables.close()
  }
}
