import type { XcatRequest } from '../protocol/types.js'

/** One node's boot parameters, as xCAT keeps them in the in-memory bootparams hash of a nodeset request. */
export interface BootParams {
  kernel?: string
  initrd?: string
  kcmdline?: string
  addkcmdline?: string
}

/** Boot parameters by node, shared between the boot-loader plugin, destiny and mk<state> of one request. */
export type BootParamsHash = Map<string, BootParams>

/** The bootparams hash a sub-request carries (a new, unshared one when it carries none). */
export function bootParamsOf(req: XcatRequest): BootParamsHash {
  const carried = Array.isArray(req.bootparams) ? req.bootparams[0] : req.bootparams
  return carried instanceof Map ? (carried as BootParamsHash) : new Map()
}

/** The parameters of `node`, created empty on first use. */
export function nodeBootParams(hash: BootParamsHash, node: string): BootParams {
  let params = hash.get(node)
  if (!params) {
    params = {}
    hash.set(node, params)
  }
  return params
}
