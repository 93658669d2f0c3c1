/** A node's chain table state. */
export interface ChainState {
  readonly currstate?: string | null | undefined
  readonly currchain?: string | null | undefined
  readonly chain?: string | null | undefined
}

/**
 * xCAT's nextdestiny step: the next item of chain.currchain becomes currstate; the last item sticks. A single-item
 * chain that already holds the current state turns into `standby` (unless it is `boot`). Undefined when the node
 * has no chain at all.
 */
export function advanceChain(state: ChainState): { currstate: string; currchain: string; standby: boolean } | undefined {
  let currchain = state.currchain || state.chain || ''
  if (!currchain) return undefined
  let standby = false
  if (state.currchain && !/[,;]/.test(state.currchain) && state.currstate && state.currchain.includes(state.currstate)) {
    if (state.currchain !== 'boot') currchain = 'standby'
    standby = true
  }
  const [next = '', ...rest] = currchain.split(/[,;]/)
  return { currstate: next, currchain: rest.length ? rest.join(',') : next, standby }
}
