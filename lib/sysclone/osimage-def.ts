import { applyWrites, getObjectDefs, listObjects, objectWrites } from '../objects/objects.js'
import type { Tables } from '../table/tables.js'

/** What the capture learnt about the golden client. */
export interface GoldenFacts {
  readonly node: string
  readonly osvers: string
  readonly arch: string
  readonly rootimgdir: string
}

/** What happened to the osimage definition. */
export type DefinitionOutcome = 'kept' | 'copied' | 'created'

/**
 * xCAT's sysclone_createosimgdef: an existing definition is kept; otherwise the golden node's current osimage is copied
 * as a sysclone image (template and package lists emptied); otherwise a new definition is made from the facts.
 */
export async function defineSyscloneImage(tables: Tables, image: string, facts: GoldenFacts): Promise<DefinitionOutcome> {
  if ((await listObjects(tables, 'osimage')).includes(image)) return 'kept'
  const current = (await tables.getNodeAttribs('nodetype', facts.node, ['provmethod']))?.provmethod
  const source = current ? (await getObjectDefs(tables, 'osimage', [current])).get(current) : undefined
  let attrs: Record<string, string>
  let outcome: DefinitionOutcome
  if (source?.osvers) {
    attrs = { ...source, provmethod: 'sysclone', template: '', pkglist: '', otherpkglist: '', rootimgdir: source.rootimgdir || facts.rootimgdir }
    outcome = 'copied'
  } else {
    attrs = {
      provmethod: 'sysclone',
      profile: 'compute',
      imagetype: 'linux',
      osname: 'Linux',
      osarch: facts.arch,
      osvers: facts.osvers,
      osdistroname: `${facts.osvers}-${facts.arch}`,
      rootimgdir: facts.rootimgdir,
      postscripts: 'efibootloader,update_network',
    }
    outcome = 'created'
  }
  await applyWrites(tables, objectWrites('osimage', image, attrs))
  return outcome
}
