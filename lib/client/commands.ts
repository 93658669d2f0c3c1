import type { ClientKind } from './request.js'

/** Every client command that is a thin client of xcatd, and how it packs its arguments. */
export const CLIENT_COMMANDS: Readonly<Record<string, ClientKind>> = {
  tabdump: 'nnr',
  tabch: 'nnr',
  nodeadd: 'nnr',
  nodels: 'noderange',
  nodech: 'noderange',
  noderm: 'noderange',
  lsdef: 'dbcmd',
  mkdef: 'dbcmd',
  chdef: 'dbcmd',
  rmdef: 'dbcmd',
  imgcapture: 'noderange',
  nodeset: 'noderange',
}

/** Commands with a client of their own (they run locally or build their own request). */
export const OWN_CLIENTS: readonly string[] = ['xcatclient', 'xcatclientnnr', 'tabrestore', 'chtab', 'xcatconfig']
