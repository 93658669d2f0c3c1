import { getopt, GetoptError, type OptionValues } from '../getopt.js'
import { expandNoderange } from '../noderange.js'
import { objectType, OBJECT_TYPES, SITE_OBJECT, type ObjectType } from '../objects/defs.js'
import { listObjects } from '../objects/objects.js'
import type { XcatResponse } from '../protocol/types.js'
import type { Tables } from '../table/tables.js'

/** The object types we define, in the order usage lists them. */
export const SUPPORTED_TYPES: readonly ObjectType[] = (Object.keys(OBJECT_TYPES) as ObjectType[]).sort()

const TYPE_LINE = ` ${SUPPORTED_TYPES.join(' ')}\n`
const HELP_TAIL = ["\nUse the '-h' option together with the '-t <object-types>' option to", ' get a list of valid attribute names for each object type.\n']

/** Usage text of each *def command, one data element per line group as xCAT sends it. */
export const USAGE: Readonly<Record<'lsdef' | 'mkdef' | 'chdef' | 'rmdef', readonly string[]>> = {
  lsdef: [
    '\nUsage: lsdef - List xCAT data object definitions.\n',
    '  lsdef [-h | --help ] [-t object-types]\n',
    '  lsdef [-l|--long] [-a|--all] [-t *object-types*] [-z|--stanza]',
    '        [-i attr-list] [--template [template-object-name]] \n',
    '  lsdef [-V | --verbose] [-t object-types] [-o object-names]',
    '        [ -l | --long] [-s | --short] [-a | --all] [-z | --stanza ] [-S]',
    '        [-i attr-list] [-w attr==val [-w attr=~val] ...] [noderange]\n',
    '\nThe following data object types are supported by xCAT:\n',
    TYPE_LINE,
    ...HELP_TAIL,
  ],
  mkdef: [
    '\nUsage: mkdef - Create xCAT data object definitions.\n',
    '  mkdef [-h | --help ] [-t object-types]\n',
    '  mkdef [-V | --verbose] [-t object-types] [--template template-object-name]',
    '      [-o object-names] [-z|--stanza ]',
    '      [-d | --dynamic] [-w attr==val [-w attr=~val] ...]',
    '      [-f | --force] [noderange] [attr=val [attr=val...]]',
    '\nThe following data object types are supported by xCAT:\n',
    TYPE_LINE,
    ...HELP_TAIL,
  ],
  chdef: [
    '\nUsage: chdef - Change xCAT data object definitions.\n',
    '  chdef [-h | --help ] [-t object-types]\n',
    '  chdef [-t object-types] [-o object-names] [-n new-name] [node]\n',
    '  chdef [-V | --verbose] [-t object-types] [-o object-names] [-d | --dynamic]',
    '    [-z | --stanza] [-m | --minus] [-p | --plus]',
    '    [-w attr==val [-w attr=~val] ... ] [noderange] [attr=val [attr=val...]]\n',
    '\nThe following data object types are supported by xCAT:\n',
    `${SUPPORTED_TYPES.join(',')}\n`,
    ...HELP_TAIL,
  ],
  rmdef: [
    '\nUsage: rmdef - Remove xCAT data object definitions.\n',
    '  rmdef [-h | --help ] [-t object-types]\n',
    '  rmdef [-V | --verbose] [-t object-types] [-a | --all] [-f | --force]',
    '    [-o object-names] [-C | --cleanup] [noderange]\n',
    '\nThe following data object types are supported by xCAT:\n',
    TYPE_LINE,
    ...HELP_TAIL,
  ],
}

const SPECS = ['all|a', 'compress|c', 'dynamic|d', 'f|force', 'i=s', 'help|h|?', 'long|l', 'short|s', 'm|minus', 'n=s', 'o=s', 'p|plus', 't=s', 'verbose|V', 'version|v', 'w=s@', 'x|xml', 'z|stanza', 'nocache', 'S', 'C|cleanup']

/** A *def command line, parsed. */
export interface DefArgs {
  readonly opts: OptionValues
  readonly types: ObjectType[]
  /** Types given with -t that we do not know. */
  readonly unknownTypes: string[]
  /** The noderange or name list operand, if any. */
  readonly operand?: string
  readonly attrs: Record<string, string>
  /** Problems that end the command before anything is done. */
  readonly problems: XcatResponse[]
}

/** An info response (stdout lines). */
export function info(lines: readonly string[]): XcatResponse {
  return { info: [...lines] }
}

/** Parses a *def command's arguments with xCAT's Getopt specification and its operand rules. */
export function parseDefArgs(argv: readonly string[]): DefArgs | GetoptError {
  let parsed
  try {
    parsed = getopt(argv, SPECS)
  } catch (err) {
    if (err instanceof GetoptError) return err
    throw err
  }
  const { opts, args } = parsed
  const problems: XcatResponse[] = []
  const attrs: Record<string, string> = {}
  let operand: string | undefined
  for (const a of args) {
    const m = /^\s*(.*?)\s*=\s*(\S*.*)$/s.exec(a)
    if (m) {
      if (!m[1]) problems.push({ error: [`Incorrect 'attr=val' pair - ${a}.`], errorcode: ['1'] })
      else attrs[m[1]] = m[2] ?? ''
    } else if (operand === undefined) {
      operand = a
    } else {
      problems.push({ error: ['noderange can not contain spaces.'], errorcode: ['1'] })
    }
  }
  const requested = typeof opts.t === 'string' ? opts.t.split(',').filter((t) => t !== '') : []
  const types = requested.filter((t) => objectType(t)) as ObjectType[]
  const unknownTypes = requested.filter((t) => !objectType(t))
  return { opts, types, unknownTypes, ...(operand === undefined ? {} : { operand }), attrs, problems }
}

/** The object names a *def command addresses for `type`: -o or the operand, nodes and groups expanded as a noderange. */
export async function objectNames(tables: Tables, type: ObjectType, args: DefArgs, options: { verify?: boolean } = {}): Promise<{ names: string[]; explicit: boolean; missing: string[] }> {
  if (type === 'site') return { names: [SITE_OBJECT], explicit: args.operand !== undefined || args.opts.o !== undefined, missing: [] }
  const given = typeof args.opts.o === 'string' ? args.opts.o : args.operand
  if (given === undefined) return { names: await listObjects(tables, type), explicit: false, missing: [] }
  if (type === 'node') {
    const { nodes, missing } = await expandNoderange(tables, given, { verify: options.verify ?? false })
    return { names: nodes, explicit: true, missing }
  }
  return { names: given.split(',').filter((n) => n !== ''), explicit: true, missing: [] }
}
