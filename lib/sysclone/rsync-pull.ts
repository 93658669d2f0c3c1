import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { runCommand, type CommandOutput } from '../exec/command.js'
import { shellCommand } from '../exec/quote.js'
import { opensshOptions } from '../exec/ssh.js'

/** A transfer's progress as the capture reports it. */
export interface TransferProgress {
  readonly bytes: number
  /** How far the transfer is: by bytes, or by files checked when that is further (a re-capture transfers little). */
  readonly percent: number
  /** Bytes per second. */
  readonly rate: number
  /** Seconds left, from the time taken so far and `percent`. */
  readonly etaSeconds: number
  /** Files transferred so far. */
  readonly files: number
}

/** One `--info=progress2` line as rsync prints it. */
export interface ProgressLine {
  readonly bytes: number
  /** Bytes transferred against the size of every file listed so far, those that need no transfer included. */
  readonly percent: number
  /** Bytes per second. */
  readonly rate: number
  /** Files transferred so far, and files still to check of those listed so far: on the lines that end a file. */
  readonly done?: { readonly files: number; readonly unchecked: number; readonly listed: number }
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
  /**
   * Skip rsync's per-file symlink-race walk of the destination and link-dest paths (`--insecure-links`, rsync 3.5):
   * only for a destination no other user can enter.
   */
  readonly trustedPaths?: boolean
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
export function parseProgress(line: string): ProgressLine | undefined {
  const m = /^\s*([\d,]+)\s+(\d+)%\s+([\d.]+)([kMGT]?)B\/s\s+\d+:\d\d:\d\d(?:\s+\(xfr#(\d+), (?:ir|to)-chk=(\d+)\/(\d+)\))?/.exec(line)
  if (!m) return undefined
  const unit = { '': 1, k: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[m[4] ?? ''] ?? 1
  return {
    bytes: number(m[1]),
    percent: Number(m[2]),
    rate: Number(m[3]) * unit,
    ...(m[5] !== undefined ? { done: { files: Number(m[5]), unchecked: Number(m[6]), listed: Number(m[7]) } } : {}),
  }
}

/**
 * The progress to report from rsync's newest line, the newest line that ended a file and the seconds taken so far.
 * rsync's time column is not used: it holds the time taken on the lines that end a file.
 */
export function transferProgress(line: ProgressLine, lastDone: ProgressLine['done'], elapsedSeconds: number): TransferProgress {
  const checked = lastDone && lastDone.listed > 0 ? (lastDone.listed - lastDone.unchecked) / lastDone.listed : 0
  const part = Math.min(1, Math.max(line.percent / 100, checked))
  return {
    bytes: line.bytes,
    percent: Math.floor(part * 100),
    rate: line.rate,
    etaSeconds: part > 0 ? Math.round((elapsedSeconds * (1 - part)) / part) : 0,
    files: lastDone?.files ?? 0,
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
    ...(options.trustedPaths ? ['--insecure-links'] : []),
    '--info=progress2',
    '--stats',
    '--no-human-readable',
    '-e',
    shellCommand(['ssh', ...opensshOptions(options.identity), ...(options.sshOptions ?? [])]),
    `root@${options.host}:${options.source.endsWith('/') ? options.source : `${options.source}/`}`,
    `${options.destination}/`,
  ]
}

let insecureLinks: Promise<boolean> | undefined
/** True when this machine's rsync has `--insecure-links`, i.e. it walks operator paths unless told not to. */
export function rsyncHasInsecureLinks(): Promise<boolean> {
  insecureLinks ??= runCommand(['rsync', '--help']).then((o) => o.stdout.includes('--insecure-links'), () => false)
  return insecureLinks
}

/** How often the progress that rsync wrote is read: rsync writes a line per file, far too many to take one by one. */
const PROGRESS_POLL_MS = 100
/** How much of the newest output a read looks at for the progress line: many lines' worth. */
const PROGRESS_WINDOW = 8 * 1024
/** What is kept of rsync's output for its closing --stats block. */
const STATS_TAIL = 16 * 1024

/**
 * A file for rsync's stdout, of which only the newest lines are read every {@link PROGRESS_POLL_MS}. A file, not a
 * pipe: rsync writes a line per file and would wait on a full pipe whenever the reader is late, which slowed a
 * capture of 100,000 small files by a fifth.
 */
async function progressLog(onProgress: ((p: TransferProgress) => void) | undefined) {
  const dir = await mkdtemp(join(tmpdir(), 'xcat-rsync-'))
  const fd = openSync(join(dir, 'stdout'), constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_APPEND, 0o600)
  const buffer = Buffer.alloc(Math.max(PROGRESS_WINDOW, STATS_TAIL))
  const readFrom = (start: number, end: number) => buffer.toString('latin1', 0, readSync(fd, buffer, 0, end - start, start))
  let seen = 0
  let pending = ''
  const started = performance.now()
  // rsync leaves out "(xfr#N, ...)" on the lines it prints during a long file.
  let lastDone: ProgressLine['done']
  const follow = () => {
    const size = fstatSync(fd).size
    if (size <= seen) return
    const start = Math.max(seen, size - PROGRESS_WINDOW)
    const lines = (start === seen ? pending + readFrom(start, size) : readFrom(start, size)).split(/[\r\n]/)
    // What a skipped stretch cut off at the front is no line.
    if (start !== seen) lines.shift()
    seen = size
    pending = lines.pop() ?? ''
    let newest: ProgressLine | undefined
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = parseProgress(lines[i] ?? '')
      newest ??= line
      if (line?.done) {
        lastDone = line.done
        break
      }
    }
    if (newest) onProgress?.(transferProgress(newest, lastDone, (performance.now() - started) / 1000))
  }
  const timer = setInterval(() => {
    try {
      follow()
    } catch {
      // Read again at the next tick; the final read reports what is left.
    }
  }, PROGRESS_POLL_MS)
  return {
    fd,
    /** Stops following; returns the end of the output, which holds the --stats block. */
    async finish(): Promise<string> {
      clearInterval(timer)
      try {
        follow()
        const size = fstatSync(fd).size
        return readFrom(Math.max(0, size - STATS_TAIL), size)
      } finally {
        closeSync(fd)
        await rm(dir, { recursive: true, force: true })
      }
    },
  }
}

/** Pulls a node's tree into `destination` with rsync over ssh; vanished files are not an error. */
export async function rsyncPull(options: PullOptions): Promise<TransferStats> {
  const progress = await progressLog(options.onProgress)
  let out: CommandOutput
  let output: string
  try {
    out = await runCommand(pullArguments(options), { ...(options.signal ? { signal: options.signal } : {}), stdoutFd: progress.fd })
  } finally {
    output = await progress.finish()
  }
  if (out.code !== 0 && out.code !== VANISHED) {
    const detail = out.stderr.trim().split('\n').filter((l) => l.trim() !== '').slice(-3).join('; ')
    throw new RsyncError(out.signal ? 128 : out.code, out.signal ? `killed by ${out.signal}` : detail)
  }
  return parseStats(output)
}
