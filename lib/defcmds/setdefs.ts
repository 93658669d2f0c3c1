import { expandNoderange } from '../noderange.js'
import { OBJECT_TYPES, objectType, onlyIfHolds, type ObjectType } from '../objects/defs.js'
import { applyWrites, editList, getObjectDefs, ListEditError, listObjects, objectWrites, removeObjects, staticGroupMembers, type ObjectAttrs, type ObjectWrite, type WriteMode } from '../objects/objects.js'
import { first, type XcatRequest, type XcatResponse } from '../protocol/types.js'
import type { PluginContext } from '../server/plugin.js'
import { errorResponse, usageResponse } from '../server/respond.js'
import { splitList } from '../table/tables.js'
import { VERSION } from '../version.js'
import { info, objectNames, parseDefArgs, USAGE, type DefArgs } from './args.js'
import { attrNames, attributeHelp } from './lsdef.js'
import { parseStanzas } from './stanza.js'

type Command = 'mkdef' | 'chdef'

/** One object to create or change. */
interface Work {
  readonly type: ObjectType
  readonly name: string
  attrs: Record<string, string>
}

const NODE_NAME = /^[a-zA-Z0-9_-]+$/
const IP_ADDRESS = /^\d{1,3}(\.\d{1,3}){3}$/

/** A usage error: the message, then the command's usage. */
function usageError(cmd: Command, message: string): XcatResponse {
  return { error: [message], errorcode: ['1'], data: [...USAGE[cmd]] }
}

/** Collects the objects the command line or stanza input names. */
async function workList(cmd: Command, args: DefArgs, req: XcatRequest, ctx: PluginContext): Promise<Work[] | XcatResponse> {
  const { opts } = args
  if (opts.z) {
    if (opts.t || opts.all) return usageError(cmd, "Cannot combine '-t' and '-a', '-z', or '-x' options.")
    if (opts.o || args.operand) return { error: ["Cannot use '-z' with '-o' or a noderange.", `Example of -z usage:\n\t'cat stanzafile | ${cmd} -z'`], errorcode: ['1'], data: [...USAGE[cmd]] }
    const work: Work[] = []
    for (const s of parseStanzas(first(req.stdin) ?? '')) {
      const type = s.type ? objectType(s.type) : undefined
      if (!type) return errorResponse(s.type ? `\nType '${s.type}' is not a valid xCAT object type.` : `\nNo objtype value was specified for '${s.name}'. Cannot create object definition.`)
      work.push({ type: type.type, name: s.name, attrs: s.attrs })
    }
    return work
  }
  if (args.types.length > 1 && Object.keys(args.attrs).length) return errorResponse("Cannot combine multiple types with 'att=val' pairs on the command line.")
  const type = args.types[0] ?? 'node'
  if (opts.o === undefined && args.operand === undefined && type !== 'site') {
    return usageError(cmd, 'No object names were provided.')
  }
  const { names } = await objectNames(ctx.tables, type, args, { verify: false })
  return names.map((name) => ({ type, name, attrs: { ...args.attrs } }))
}

/** Node names must be host names without dots (or IP addresses), as xCAT's object name format requires. */
function badNodeNames(work: readonly Work[]): XcatResponse[] {
  const bad = work.filter((w) => w.type === 'node' && !NODE_NAME.test(w.name) && !IP_ADDRESS.test(w.name)).map((w) => w.name)
  if (bad.length === 0) return []
  const dotted = bad.filter((n) => n.includes('.'))
  const other = bad.filter((n) => !n.includes('.'))
  return [
    ...(dotted.length ? [errorResponse(`The object name '${dotted.join(',')}' is invalid, Cannot use '.' in node name.`)] : []),
    ...(other.length ? [errorResponse(`The object name '${other.join(',')}' is invalid, please refer to "man xcatdb" for the valid "xCAT Object Name Format"`)] : []),
  ]
}

/** `Cannot set the attr='x' attribute unless y value is z.` for attributes whose condition does not hold. */
function onlyIfProblem(type: ObjectType, attr: string, values: Readonly<Record<string, string | undefined>>): string | undefined {
  const defs = OBJECT_TYPES[type].attrs.filter((a) => a.attr === attr)
  if (defs.length === 0 || defs.some((d) => !d.onlyIf || onlyIfHolds(d, values))) return undefined
  const cond = defs[0]?.onlyIf
  const allowed = [...new Set(defs.map((d) => d.onlyIf?.value ?? ''))].sort().join(' or ')
  return `Cannot set the attr='${attr}' attribute unless ${cond?.attr ?? ''} value is ${allowed}.`
}

/** Group membership changes: node to its new nodelist.groups value. */
type MembershipEdits = Map<string, string>

/** mkdef and chdef: create (or, for chdef, create or change) object definitions; every write lands in one transaction. */
export async function setdefs(cmd: Command, req: XcatRequest, ctx: PluginContext): Promise<void> {
  const argv = req.arg ?? []
  if (argv.length === 0 && !first(req.stdin)) return ctx.respond(usageResponse(USAGE[cmd]))
  const parsed = parseDefArgs(argv)
  if (!('opts' in parsed)) return ctx.respond({ error: ['Invalid option..'], errorcode: ['1'], data: [...USAGE[cmd]] })
  const args = parsed
  const { opts } = args
  if (opts.version) return ctx.respond(info([`${cmd} - Version ${VERSION}`]))
  if (opts.help) {
    if (!opts.t) return ctx.respond(usageResponse(USAGE[cmd]))
    for (const t of args.types) ctx.respond(info(attributeHelp(t, undefined)))
    return
  }
  for (const p of args.problems) ctx.respond(p)
  if (args.problems.length) return
  if (args.unknownTypes.length) return ctx.respond(errorResponse(args.unknownTypes.map((t) => `\nType '${t}' is not a valid xCAT object type.`)))
  if (cmd === 'mkdef' && (opts.p || opts.m)) return ctx.respond(usageError(cmd, "The '-p' and '-m' options are not valid for the mkdef command."))
  if (cmd === 'chdef' && opts.f) return ctx.respond(usageError(cmd, "The '-f' option is not valid for the chdef command."))
  if (opts.p && opts.m) return ctx.respond(usageError(cmd, "The flags '-p' and '-m' cannot be used together."))
  if (cmd === 'chdef' && opts.n !== undefined) return ctx.respond(errorResponse("The '-n' option (renaming an object) is not supported."))
  const listed = await workList(cmd, args, req, ctx)
  if (!Array.isArray(listed)) return ctx.respond(listed)
  const mode: WriteMode = opts.p ? 'plus' : opts.m ? 'minus' : 'replace'
  const dynamic = Boolean(opts.dynamic)
  const where = (opts.w as string[] | undefined) ?? []

  let failed = false
  const fail = (message: string | string[]) => {
    ctx.respond(errorResponse(message))
    failed = true
  }
  const nameProblems = badNodeNames(listed)
  for (const p of nameProblems) ctx.respond(p)
  if (nameProblems.length) {
    if (cmd === 'mkdef') return
    failed = true
  }
  const capitals = listed.filter((w) => w.type === 'node' && /[A-Z]/.test(w.name)).map((w) => w.name)
  if (capitals.length) ctx.respond({ warning: [`The node name '${capitals.join(',')}' contains capital letters which may not be resolved correctly by the dns server.`] })
  let work = listed.filter((w) => !(w.type === 'node' && !NODE_NAME.test(w.name) && !IP_ADDRESS.test(w.name)))

  for (const w of work) {
    if (w.type === 'site') continue
    const valid = new Set(attrNames(w.type))
    for (const attr of Object.keys(w.attrs)) {
      if (valid.has(attr)) continue
      fail([`'${attr}' is not a valid attribute name for an object type of '${w.type}'.`, 'Skipping to the next attribute.'])
      delete w.attrs[attr]
    }
  }
  if (failed && cmd === 'mkdef') return
  if (cmd === 'mkdef' && !opts.z && work.every((w) => Object.keys(w.attrs).length === 0) && !work.some((w) => w.type === 'group')) {
    const nodeType = typeof opts.t === 'string' && /\bnode\b/.test(opts.t)
    return ctx.respond(errorResponse(`No object definitions have been created or modified: no attributes were specified.${nodeType ? " The 'groups' attribute is required when creating node definitions." : ''}`))
  }
  if (cmd === 'chdef' && !dynamic && work.every((w) => Object.keys(w.attrs).length === 0)) {
    return ctx.respond(info(['No object definitions have been created or modified.']))
  }

  const existing = new Map<ObjectType, Set<string>>()
  for (const type of new Set(work.map((w) => w.type))) existing.set(type, new Set(await listObjects(ctx.tables, type)))
  const exists = (w: Work) => w.type === 'site' || (existing.get(w.type)?.has(w.name) ?? false)
  const replaced: Work[] = []
  work = work.filter((w) => {
    if (cmd !== 'mkdef' || !exists(w) || w.type === 'site') return true
    if (opts.f) {
      replaced.push(w)
      return true
    }
    ctx.respond({ warning: [`A definition for '${w.name}' already exists. No changes will be made.  Run again with '-f' option to force replace.`] })
    return false
  })

  const writes: ObjectWrite[] = []
  const membership: MembershipEdits = new Map()
  const groupsOf = new Map<string, string[]>()
  const nodeGroups = async (node: string) => {
    if (!groupsOf.has(node)) groupsOf.set(node, splitList((await ctx.tables.getAttribs('nodelist', { node }))?.groups))
    return groupsOf.get(node) ?? []
  }
  const setGroups = (node: string, groups: string[]) => {
    groupsOf.set(node, groups)
    membership.set(node, groups.join(','))
  }
  const created: string[] = []
  let updated = 0
  const networks = work.some((w) => w.type === 'network') ? await getObjectDefs(ctx.tables, 'network', await listObjects(ctx.tables, 'network')) : new Map<string, ObjectAttrs>()

  for (const w of work) {
    const isNew = !exists(w) || replaced.includes(w)
    const current = isNew ? {} : ((await getObjectDefs(ctx.tables, w.type, [w.name])).get(w.name) ?? {})
    if (cmd === 'chdef' && isNew && mode === 'minus') {
      fail(`The '-m' option is not valid since the '${w.name}' definition does not exist.`)
      continue
    }
    if (w.type === 'node' && isNew && !w.attrs.groups) {
      fail(`Attribute 'groups' is not specified for node '${w.name}', skipping to the next node.`)
      continue
    }
    if (w.type === 'network') {
      const net = w.attrs.net ?? current.net
      const mask = w.attrs.mask ?? current.mask
      if (!net || !mask) {
        fail(`Net or mask value should not be empty for xCAT network object '${w.name}'.`)
        continue
      }
      const clash = [...networks].find(([n, a]) => n !== w.name && a.net === net && a.mask === mask)
      if (clash) {
        fail(`A network definition called '${clash[0]}' already exists that contains the same net and mask values. Cannot create a definition for '${w.name}'.`)
        continue
      }
    }
    if (w.type === 'osimage' && isNew && !w.attrs.imagetype) w.attrs.imagetype = 'linux'
    if (w.type === 'group') {
      const grouptype = dynamic ? 'dynamic' : (current.grouptype ?? 'static')
      if (grouptype === 'dynamic') {
        if (!dynamic && Object.keys(w.attrs).some((a) => a !== 'wherevals' && a !== 'usercomment')) {
          fail(`Can not assign attributes to dynamic node group '${w.name}'.`)
          continue
        }
        if (where.length === 0 && !w.attrs.wherevals && isNew) {
          fail([`The 'where' attributes and values were not provided for dynamic group '${w.name}'.`, 'Skipping to the next group.'])
          continue
        }
        if (w.attrs.members !== undefined) {
          fail("Cannot use a list of members together with the '-w' option.")
          continue
        }
        const wherevals = where.length ? where.join('::') : (w.attrs.wherevals ?? current.wherevals ?? '')
        w.attrs = { ...w.attrs, grouptype: 'dynamic', members: 'dynamic', wherevals: mode === 'replace' ? wherevals : editList(current.wherevals, wherevals, mode, '::') }
      } else if (w.attrs.members !== undefined) {
        const { nodes, missing } = await expandNoderange(ctx.tables, w.attrs.members, { verify: true })
        for (const n of missing) fail(`Could not find a node named '${n}', skipping to the next node.`)
        const before = (await staticGroupMembers(ctx.tables)).get(w.name) ?? []
        if (mode === 'minus') {
          for (const n of nodes.filter((x) => !before.includes(x))) fail(`${n} is not a member of '${w.name}'.`)
        }
        const leaving = mode === 'replace' ? before.filter((n) => !nodes.includes(n)) : mode === 'minus' ? nodes : []
        const joining = mode === 'minus' ? [] : nodes
        for (const n of leaving) setGroups(n, (await nodeGroups(n)).filter((g) => g !== w.name))
        for (const n of joining) {
          const groups = await nodeGroups(n)
          if (!groups.includes(w.name)) setGroups(n, [...groups, w.name])
        }
        w.attrs = { ...w.attrs, grouptype: 'static', members: 'static' }
      } else if (isNew) {
        w.attrs = { ...w.attrs, grouptype: 'static' }
        if (cmd === 'mkdef') ctx.respond({ warning: [`Cannot determine a member list for group '${w.name}'.`] })
      }
    }
    const finalAttrs: Record<string, string> = {}
    let skip = false
    for (const [attr, value] of Object.entries(w.attrs)) {
      if (mode === 'replace' || (w.type === 'group' && ['members', 'grouptype', 'wherevals'].includes(attr))) {
        finalAttrs[attr] = value
        continue
      }
      try {
        finalAttrs[attr] = editList(current[attr], value, mode)
      } catch (err) {
        if (!(err instanceof ListEditError)) throw err
        fail(current[attr] ? `${err.item} is not in the attribute of '${attr}' for the '${w.name}' definition.` : `No value got for attribute '${attr}' for the '${w.name}' definition.`)
      }
    }
    const context = { ...current, ...finalAttrs }
    for (const attr of Object.keys(finalAttrs)) {
      const problem = w.type === 'site' ? undefined : onlyIfProblem(w.type, attr, context)
      if (problem) {
        fail(problem)
        skip = true
      }
    }
    if (skip) continue
    writes.push(...objectWrites(w.type, w.name, finalAttrs, context))
    if (isNew && cmd === 'chdef' && w.type !== 'site') created.push(w.name)
    updated++
  }

  for (const w of replaced) await removeObjects(ctx.tables, w.type, [w.name])
  const membershipWrites = [...membership].map(([node, groups]) => ({ table: 'nodelist', keys: { node }, values: { groups } }))
  await applyWrites(ctx.tables, [...writes, ...membershipWrites])
  if (failed) {
    ctx.respond(errorResponse('One or more errors occured when attempting to create or modify xCAT object definitions.'))
    return
  }
  if (updated === 0) {
    ctx.respond(cmd === 'mkdef' ? errorResponse('0 object definitions have been created or modified.') : info(['No object definitions have been created or modified.']))
    return
  }
  ctx.respond(info([`${updated} object definitions have been created or modified.`]))
  if (created.length) ctx.respond(info([`New object definitions '${created.join(',')}' have been created.`]))
}
