import { nodeErrorResponse } from '../server/respond.js'
import type { PluginContext } from '../server/plugin.js'
import { nodeBootParams, type BootParamsHash } from './bootparams.js'
import { ipFacing, localIpv4Addresses } from './facing-ip.js'
import { genesisArch, genesisFinder } from './genesis.js'
import type { resolveNodeIps } from './node-ip.js'

/** What genesis-state nodes need besides the tables. */
export interface GenesisStateInput {
  readonly nodes: readonly string[]
  readonly state: string
  readonly bootparams: BootParamsHash
  readonly tftpdir: (node: string) => string
  readonly nodeIps: Awaited<ReturnType<typeof resolveNodeIps>>
}

/**
 * setdestiny's shell, standby, runcmd=... and runimage=... states: the genesis kernel and initrd with
 * `quiet [console=...]xcatd=<master>:<port> destiny=<state>`. Returns the nodes that failed.
 */
export async function genesisStateParams(ctx: PluginContext, input: GenesisStateInput): Promise<Set<string>> {
  const { nodes, state, bootparams } = input
  const failed = new Set<string>()
  const [hm, types, res, port, master] = await Promise.all([
    ctx.tables.getNodesAttribs('nodehm', nodes, ['serialport', 'serialspeed', 'serialflow']),
    ctx.tables.getNodesAttribs('nodetype', nodes, ['arch']),
    ctx.tables.getNodesAttribs('noderes', nodes, ['xcatmaster']),
    ctx.tables.site('xcatdport'),
    ctx.tables.site('master'),
  ])
  const local = localIpv4Addresses()
  const find = genesisFinder()
  for (const node of nodes) {
    const fail = (message: string) => {
      failed.add(node)
      ctx.respond(nodeErrorResponse(node, message))
    }
    const rawArch = types.get(node)?.arch
    if (!rawArch) {
      fail('No archictecture defined in nodetype table for the node.')
      continue
    }
    const arch = genesisArch(rawArch)
    const nodeIp = input.nodeIps.get(node)
    const xcatmaster = res.get(node)?.xcatmaster || (nodeIp ? ipFacing(nodeIp, local) : undefined) || master
    if (!xcatmaster) {
      fail('No master in site table nor noderes table for the node.')
      continue
    }
    let kcmdline = 'quiet '
    const serial = hm.get(node)
    if (serial?.serialport !== undefined && serial.serialport !== null) {
      if (serial.serialspeed === undefined || serial.serialspeed === null) {
        fail('serialport defined, but no serialspeed for this node in nodehm table')
        continue
      }
      kcmdline += `console=tty0 console=${arch === 'ppc64' ? 'hvc' : 'ttyS'}${serial.serialport},${serial.serialspeed} `
    }
    const tftpdir = input.tftpdir(node)
    const genesis = await find(tftpdir, arch)
    if (!genesis) {
      fail(`Could not find genesis.kernel.${arch} or legacy nbk.${arch} files`)
      continue
    }
    Object.assign(nodeBootParams(bootparams, node), { kernel: genesis.kernel, initrd: genesis.initrd, kcmdline: `${kcmdline}xcatd=${xcatmaster}:${port || '3001'} destiny=${state}` })
  }
  return failed
}
