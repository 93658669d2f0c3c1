import { runCommand } from '../exec/command.js'
import { shellCommand } from '../exec/quote.js'
import { opensshOptions } from '../exec/ssh.js'

/** rsync's progress as the capture reports it. */
export interface TransferProgress {
  readonly bytes: number
  readonly percent: number
  /** Bytes per second. */
  readonly rate: number
  /** Seconds left, as rsync estimates it. */
  readonly etaSeconds: number
  /** Files transferred so far. */
  readonly files: number
}

/** rsync's closing statistics (--stats). */
export interface TransferStats {
  readonly filesTotal: number
  readonly filesTransferred: number
  readonly bytesTotal: number
  readonly bytesTransferred: number
  readonly bytesReceived: number
}

/** What a pull needs. */
export interface PullOptions {
  readonly host: string
  readonly identity: string | undefined
  /** The source tree on the node, e.g. '/'. */
  readonly source: string
  readonly destination: string
  readonly excludeFile: string
  /** An earlier copy: unchanged files are hard-linked from it instead of transferred. */
  readonly linkDest?: string
  /** Keep ACLs and extended attributes (SELinux labels, file capabilities). */
  readonly xattrs: boolean
  /** More options for rsync's ssh, e.g. those of a connection already open to the node. */
  readonly sshOptions?: readonly string[]
  readonly signal?: AbortSignal
  readonly onProgress?: (p: TransferProgress) => void
}

/** The rsync failed; `code` is rsync's exit status, `detail` its last words. */
export class RsyncError extends Error {
  constructor(
    readonly code: number,
    readonly detail: string,
  ) {
    super(detail ? `rsync exited with status ${code}: ${detail}` : `rsync exited with status ${code}`)
  }
}

/** rsync exit 24: files vanished while they were copied, normal on a live system. */
const VANISHED = 24

const number = (text: string | undefined) => Number((text ?? '0').replace(/,/g, ''))

/** Parses one `--info=progress2` line: `   1,234,567  45%   12.34MB/s    0:00:12 (xfr#12, ir-chk=10/20)`. */
export function parseProgress(line: string): TransferProgress | undefined {
  const m = /^\s*([\d,]+)\s+(\d+)%\s+([\d.]+)([kMGT]?)B\/s\s+(\d+):(\d\d):(\d\d)(?:\s+\(xfr#(\d+))?/.exec(line)
  if (!m) return undefined
  const unit = { '': 1, k: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[m[4] ?? ''] ?? 1
  return {
    bytes: number(m[1]),
    percent: Number(m[2]),
    rate: Number(m[3]) * unit,
    etaSeconds: Number(m[5]) * 3600 + Number(m[6]) * 60 + Number(m[7]),
    files: Number(m[8] ?? 0),
  }
}

/** Parses rsync's --stats block. */
export function parseStats(text: string): TransferStats {
  const field = (label: string) => number(new RegExp(`${label}:\\s*([\\d,]+)`).exec(text)?.[1])
  return {
    filesTotal: field('Number of files'),
    filesTransferred: field('Number of regular files transferred'),
    bytesTotal: field('Total file size'),
    bytesTransferred: field('Total transferred file size'),
    bytesReceived: field('Total bytes received'),
  }
}

/** The rsync argument list of a pull, exactly as run (exported for tests and for the baseline benchmark). */
export function pullArguments(options: PullOptions): string[] {
  return [
    'rsync',
    options.xattrs ? '-aHAXS' : '-aHS',
    '--numeric-ids',
    '--delete',
    '--delete-excluded',
    `--exclude-from=${options.excludeFile}`,
    ...(options.linkDest ? [`--link-dest=${options.linkDest}`] : []),
    '--info=progress2',
    '--stats',
    '--no-human-readable',
    '-e',
    shellCommand(['ssh', ...opensshOptions(options.identity), ...(options.sshOptions ?? [])]),
    `root@${options.host}:${options.source.endsWith('/') ? options.source : `${options.source}/`}`,
    `${options.destination}/`,
  ]
}

/** Pulls a node's tree into `destination` with rsync over ssh; vanished files are not an error. */
export async function rsyncPull(options: PullOptions): Promise<TransferStats> {
  let pending = ''
  // rsync leaves out "(xfr#N, ...)" on the lines it prints between two finished files.
  let files = 0
  const out = await runCommand(pullArguments(options), {
    ...(options.signal ? { signal: options.signal } : {}),
    onStdout: (chunk) => {
      pending += chunk
      const pieces = pending.split(/[\r\n]/)
      pending = pieces.pop() ?? ''
      for (const piece of pieces) {
        const p = parseProgress(piece)
        if (p) {
          files = Math.max(files, p.files)
          options.onProgress?.({ ...p, files })
        }
      }
    },
  })
  if (out.code !== 0 && out.code !== VANISHED) {
    const detail = out.stderr.trim().split('\n').filter((l) => l.trim() !== '').slice(-3).join('; ')
    throw new RsyncError(out.signal ? 128 : out.code, out.signal ? `killed by ${out.signal}` : detail)
  }
  return parseStats(out.stdout)
}
