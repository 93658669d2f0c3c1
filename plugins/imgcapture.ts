import { sshIdentity } from '../lib/exec/ssh.js'
import { getopt, GetoptError } from '../lib/getopt.js'
import { all, first, type XcatRequest } from '../lib/protocol/types.js'
import type { PluginContext, XcatPlugin } from '../lib/server/plugin.js'
import { captureSysclone, CaptureError, imageDirectory } from '../lib/sysclone/capture.js'
import { captureDiskless } from '../lib/sysclone/diskless-capture.js'
import { ImageBusyError } from '../lib/sysclone/image-repository.js'
import { isSafeImageName, syscloneDirs } from '../lib/sysclone/paths.js'
import { humanBytes, progressResponse } from '../lib/sysclone/progress.js'
import { RsyncError, type TransferProgress } from '../lib/sysclone/rsync-pull.js'
import { versionString } from '../lib/version.js'

const USAGE =
  'Usage: imgcapture <node> -t|--type {diskless|sysclone} [-p | --profile <profile>] ' +
  '[-o|--osimage <osimage>] [-i <nodebootif>] [-n <nodenetdrivers>] ' +
  '[-d | --device <devicesToCapture>] [-c | --compress <compressionLevel>] [-V | --verbose] \n\n' +
  'imgcapture <node> -t|--type sysclone -o|--osimage <osimage> [--exclude <path>]... [--noscrub] [-V | --verbose] \n' +
  'imgcapture [-h|--help] \n' +
  'imgcapture [-v|--version]'

/** The address a node is reached at: hosts.ip, else its name as the system resolves it. */
async function nodeAddress(ctx: PluginContext, node: string): Promise<string> {
  return (await ctx.tables.getNodeAttribs('hosts', node, ['ip']))?.ip || node
}

async function sysclone(req: XcatRequest, ctx: PluginContext, node: string, image: string, opts: Record<string, unknown>): Promise<void> {
  if (!isSafeImageName(image)) {
    ctx.respond({ error: [`Invalid osimage name "${image}": use letters, digits, '.', '_', '-' and '+' only, not starting with '.'.`], errorcode: ['1'] })
    return
  }
  const dirs = await syscloneDirs(ctx.tables)
  const imagePath = await imageDirectory(ctx.tables, dirs, image)
  const say = (text: string) => ctx.respond({ data: [text] })
  let lastProgress = 0
  let unsent: TransferProgress | undefined
  try {
    const result = await captureSysclone(
      {
        node,
        image,
        tables: ctx.tables,
        dirs,
        address: await nodeAddress(ctx, node),
        identity: sshIdentity(),
        excludes: (opts.exclude as string[] | undefined) ?? [],
        scrub: !opts.noscrub,
        signal: ctx.signal,
        say,
        progress: (p) => {
          unsent = p
          if (Date.now() - lastProgress < 1000) return
          lastProgress = Date.now()
          unsent = undefined
          ctx.respond(progressResponse(p))
        },
      },
      imagePath,
    )
    // The transfer's last figures, which came within a second of the ones sent before.
    if (unsent) ctx.respond(progressResponse(unsent))
    const s = result.stats
    say(`Transferred ${s.filesTransferred} files (${humanBytes(s.bytesTransferred)}) from ${node}; the image holds ${s.filesTotal} files (${humanBytes(s.bytesTotal)}) in ${result.path}.`)
    if (opts.verbose) say(`${node} runs ${result.osvers || 'an unknown distribution'} on ${result.arch}; ${result.layout.disks.length} disk(s) recorded in etc/systemimager/autoinstallscript.conf.`)
    const mn = (await ctx.tables.site('master')) ?? 'the management node'
    if (result.definition === 'kept') ctx.respond({ info: [`Using the existing osimage "${image}" defined on ${mn}.`] })
    else ctx.respond({ data: [`The osimage definition for ${image} was created.`] })
  } catch (err) {
    if (err instanceof CaptureError || err instanceof ImageBusyError) {
      ctx.respond({ error: [err.message], errorcode: ['1'] })
    } else if (err instanceof RsyncError) {
      const why = ctx.signal.aborted ? 'the capture was interrupted' : err.message
      ctx.respond({ error: [`Can not get image ${image} from ${node}: ${why}. The previous image, if any, is unchanged.`], errorcode: ['1'] })
    } else {
      throw err
    }
  }
}

/** xCAT's imgcapture: `-t sysclone` captures a golden client into a sysclone image, `-t diskless` into a netboot rootimg. */
const plugin: XcatPlugin = {
  name: 'imgcapture',
  handledCommands: () => ({ imgcapture: 'imgcapture' }),
  async processRequest(req, ctx) {
    let parsed
    try {
      parsed = getopt(req.arg ?? [], ['profile|p=s', 'i=s', 'n=s', 'osimage|o=s', 'device|d=s', 'compress|c=s', 'help|h', 'version|v', 'verbose|V', 'type|t=s', 'exclude=s@', 'noscrub'], { passThrough: true })
    } catch (err) {
      if (!(err instanceof GetoptError)) throw err
      ctx.respond({ data: [err.message, USAGE], errorcode: ['1'] })
      return
    }
    const { opts, args } = parsed
    if (args[0] !== undefined) return ctx.respond({ data: [`Invalid Argument: ${args[0]}`, USAGE] })
    if (opts.version) return ctx.respond({ data: [versionString()] })
    if (opts.help) return ctx.respond({ data: [USAGE] })
    const node = first(req.node)
    if (!node) return ctx.respond({ data: [USAGE] })
    if (all(req.node).length > 1) return ctx.respond({ error: ['imgcapture captures one golden client at a time: give one node.'], errorcode: ['1'] })
    const type = typeof opts.type === 'string' ? opts.type : 'sysclone'
    const image = typeof opts.osimage === 'string' ? opts.osimage : undefined
    if (!['sysclone', 'diskless'].includes(type)) return ctx.respond({ error: [`Unsupported capture type "${type}": use sysclone or diskless.`, USAGE], errorcode: ['1'] })
    if (type === 'sysclone' && !image) {
      return ctx.respond({ error: ['You must specify osimage name if you are using "sysclone".', USAGE], errorcode: ['1'] })
    }
    if (type === 'sysclone') return sysclone(req, ctx, node, image ?? '', opts)
    await captureDiskless(ctx, { node, address: await nodeAddress(ctx, node), identity: sshIdentity(), opts })
  },
}

export default plugin
