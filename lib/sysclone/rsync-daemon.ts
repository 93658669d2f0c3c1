import { spawn } from 'node:child_process'
import { open, mkdir, readdir, readFile, readlink, rm, stat } from 'node:fs/promises'
import { createServer } from 'node:net'
import { basename, dirname, isAbsolute, join, posix } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import type { Logger } from '../log.js'
import { writeFileAtomic } from './atomic-write.js'
import { isSafeImageName, type SyscloneDirs } from './paths.js'

/** The files the image server's rsync daemon keeps while it runs. */
export interface RsyncDaemonFiles {
  readonly pidFile: string
  readonly lockFile: string
  readonly logFile: string
}

/** What {@link ensureImageRsyncDaemon} serves and how. */
export interface ImageRsyncDaemonOptions {
  readonly dirs: SyscloneDirs
  /** One module per image: module name = osimage name, path = its rootimgdir. */
  readonly images: readonly { readonly name: string; readonly path: string }[]
  /** `hosts allow` patterns, e.g. the node networks as 10.0.0.0/255.255.0.0. */
  readonly allow: readonly string[]
  /** Default 873. */
  readonly port?: number
  /** Listen on this address only; default every address. */
  readonly address?: string
  /** Where the pid, lock and log files go; see {@link rsyncDaemonFiles}. */
  readonly stateDir?: string
  /** Also allow 127.0.0.1 and ::1 (default true). */
  readonly allowLoopback?: boolean
  /** The rsync program (default 'rsync' from PATH). */
  readonly rsync?: string
  readonly log?: Logger
}

/** What {@link ensureImageRsyncDaemon} did. */
export interface ImageRsyncDaemonState {
  readonly configPath: string
  readonly pid: number
  /** A running daemon was replaced. */
  readonly restarted: boolean
  /** No daemon of ours was running, one was started. */
  readonly started: boolean
  /** The config file was rewritten (rsync rereads it on every connection, so module changes need no restart). */
  readonly changed: boolean
}

const DEFAULT_PORT = 873
const DONT_COMPRESS = '*.gz *.tgz *.zip *.Z *.ZIP *.bz2 *.deb *.rpm *.dbf *.xz *.zst *.lzma *.7z'
const RESERVED_MODULES = new Set(['scripts', 'overrides', 'global'])
/** Settings rsync reads only when the daemon starts; everything else it rereads on each connection. */
const STARTUP_KEYS = new Set(['port', 'address', 'pid file', 'log file', 'listen backlog', 'socket options'])
const START_TIMEOUT_MS = 10_000
const STOP_TIMEOUT_MS = 10_000

/** The daemon's pid, lock and log files: inside `stateDir` when given, else /run and /var/log/xcat. */
export function rsyncDaemonFiles(stateDir?: string): RsyncDaemonFiles {
  if (stateDir !== undefined) return { pidFile: join(stateDir, 'rsyncd.pid'), lockFile: join(stateDir, 'rsyncd.lock'), logFile: join(stateDir, 'rsyncd.log') }
  return { pidFile: '/run/xcat-sysclone-rsyncd.pid', lockFile: '/run/xcat-sysclone-rsyncd.lock', logFile: '/var/log/xcat/sysclone-rsyncd.log' }
}

/** The daemon's own config file, next to SystemImager's rsyncd.conf (which stays for SystemImager's tools). */
export function imageRsyncdConfPath(dirs: SyscloneDirs): string {
  return join(dirs.systemimager, 'xcat-rsyncd.conf')
}

/** A value that rsync reads back verbatim: it trims both ends, joins lines ending in '\' and expands %VAR%. */
function configValue(what: string, value: string): string {
  if (/[\n\r\0]/.test(value)) throw new Error(`${what} ${JSON.stringify(value)}: an rsync config value cannot hold a line break`)
  if ((value.match(/%/g) ?? []).length > 1) throw new Error(`${what} ${JSON.stringify(value)}: rsync would expand %NAME% in it`)
  return value
}

function modulePath(what: string, path: string): string {
  configValue(what, path)
  if (!isAbsolute(path)) throw new Error(`${what} ${JSON.stringify(path)} is not an absolute path`)
  // normalize also drops '/./', which rsync takes as a chroot divider
  const clean = posix.normalize(path).replace(/(.)\/+$/, '$1')
  return /[\s\\]$/.test(clean) ? `${clean}/` : clean
}

function hostPattern(pattern: string): string {
  if (!/^[0-9A-Fa-f.:/*]+$/.test(pattern)) throw new Error(`hosts allow pattern ${JSON.stringify(pattern)} is not an address or network`)
  return pattern
}

/** The config text of the image server's rsync daemon (see {@link ensureImageRsyncDaemon}). */
export function imageRsyncdConf(options: ImageRsyncDaemonOptions): string {
  const files = rsyncDaemonFiles(options.stateDir)
  const port = options.port ?? DEFAULT_PORT
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid rsync daemon port ${port}`)
  if (options.address !== undefined && !/^[A-Za-z0-9.:-]+$/.test(options.address)) throw new Error(`invalid listen address ${JSON.stringify(options.address)}`)
  const allow = [...options.allow.map(hostPattern)]
  if (options.allowLoopback ?? true) for (const lo of ['127.0.0.1', '::1']) if (!allow.includes(lo)) allow.push(lo)
  if (!allow.length) throw new Error('the image rsync daemon needs at least one hosts allow pattern')
  const images = new Map<string, string>()
  for (const image of options.images) {
    if (!isSafeImageName(image.name)) throw new Error(`osimage name ${JSON.stringify(image.name)} cannot be an rsync module name`)
    if (RESERVED_MODULES.has(image.name.toLowerCase())) throw new Error(`osimage name ${JSON.stringify(image.name)} clashes with the rsync module of the same name`)
    const path = modulePath(`path of osimage ${image.name}`, image.path)
    const known = images.get(image.name)
    if (known !== undefined && known !== path) throw new Error(`osimage ${image.name} is given twice, as ${known} and ${path}`)
    images.set(image.name, path)
  }
  const lines = [
    '# The sysclone image server\'s rsync daemon, written by xCAT at nodeset: local changes are overwritten.',
    '# SystemImager\'s rsyncd.conf and rsync_stubs/ in this directory stay for its own tools.',
    `pid file = ${modulePath('pid file', files.pidFile)}`,
    `lock file = ${modulePath('lock file', files.lockFile)}`,
    `log file = ${modulePath('log file', files.logFile)}`,
    `port = ${port}`,
    ...(options.address === undefined ? [] : [`address = ${options.address}`]),
    'use chroot = yes',
    'read only = yes',
    'uid = root',
    'gid = root',
    'list = yes',
    'timeout = 600',
    'reverse lookup = no',
    `hosts allow = ${allow.join(' ')}`,
    `dont compress = ${DONT_COMPRESS}`,
    '',
    '[scripts]',
    `\tpath = ${modulePath('scripts directory', options.dirs.scripts)}`,
    '',
    '[overrides]',
    `\tpath = ${modulePath('overrides directory', options.dirs.overrides)}`,
    '',
  ]
  for (const name of [...images.keys()].sort()) lines.push(`[${name}]`, `\tpath = ${images.get(name)}`, '')
  return lines.join('\n')
}

function startupSettings(conf: string): string {
  const global = conf.split(/^\s*\[/m)[0] ?? ''
  return global
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => STARTUP_KEYS.has(line.split('=')[0]?.trim().replace(/\s+/g, ' ') ?? ''))
    .join('\n')
}

function configPort(conf: string): number {
  return Number(/^\s*port\s*=\s*(\d+)/m.exec(conf)?.[1] ?? DEFAULT_PORT)
}

/** Whether a daemon started with config `previous` must be restarted to apply `next`. */
export function requiresRestart(previous: string | undefined, next: string): boolean {
  return previous === undefined || startupSettings(previous) !== startupSettings(next)
}

async function readPid(pidFile: string): Promise<number | undefined> {
  const text = await readFile(pidFile, 'utf8').catch(() => '')
  const pid = Number(text.trim())
  return /^\d+$/.test(text.trim()) && pid > 1 ? pid : undefined
}

/** The config file of an `rsync --daemon` command line ('' when it names none), or undefined for another program. */
function configOf(cmdline: string): string | undefined {
  const argv = cmdline.split('\0')
  if (!argv[0] || !basename(argv[0]).startsWith('rsync') || !argv.includes('--daemon')) return undefined
  return argv.find((a) => a.startsWith('--config='))?.slice('--config='.length) ?? ''
}

const commandLine = (pid: number) => readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')

/** The config file a live `rsync --daemon` with this pid was started with ('' when it has none), or undefined. */
async function daemonConfig(pid: number): Promise<string | undefined> {
  return (await processEnded(pid)) ? undefined : configOf(await commandLine(pid))
}

async function listeningOn(pid: number, port: number): Promise<boolean> {
  const portHex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`
  const inodes = new Set<string>()
  try {
    for (const table of ['tcp', 'tcp6']) {
      const text = await readFile(`/proc/${pid}/net/${table}`, 'utf8').catch(() => '')
      for (const line of text.split('\n').slice(1)) {
        const f = line.trim().split(/\s+/)
        if (f[1]?.endsWith(portHex) && f[3] === '0A' && f[9]) inodes.add(`socket:[${f[9]}]`)
      }
    }
    if (!inodes.size) return false
    for (const fd of await readdir(`/proc/${pid}/fd`)) if (inodes.has(await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''))) return true
    return false
  } catch {
    return false
  }
}

async function assertPortFree(port: number, address: string | undefined): Promise<void> {
  const where = address === undefined ? `port ${port}` : `port ${port} on ${address}`
  await new Promise<void>((resolve, reject) => {
    const server = createServer()
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new Error(`cannot start the image rsync daemon: ${where} is in use by another program (another rsync daemon, such as systemimager-server-rsyncd or rsyncd?)`))
      else if (err.code === 'EADDRNOTAVAIL') reject(new Error(`cannot start the image rsync daemon: ${address} is not an address of this host`))
      else resolve()
    })
    server.listen({ port, exclusive: true, ...(address === undefined ? {} : { host: address }) }, () => server.close(() => resolve()))
  })
}

async function logSince(logFile: string, offset: number): Promise<string> {
  try {
    const handle = await open(logFile, 'r')
    try {
      const { size } = await handle.stat()
      const buf = Buffer.alloc(Math.max(0, size - offset))
      await handle.read(buf, 0, buf.length, offset)
      return buf.toString('utf8').trim().split('\n').slice(-5).join('\n')
    } finally {
      await handle.close()
    }
  } catch {
    return ''
  }
}

/** Runs `rsync --daemon` (which forks, writes the pid file, then binds) and waits until the daemon listens. */
async function startDaemon(rsync: string, configPath: string, files: RsyncDaemonFiles, port: number): Promise<number> {
  const logStart = await stat(files.logFile).then((s) => s.size, () => 0)
  // stdin must not be a socket, or rsync believes inetd started it
  const child = spawn(rsync, ['--daemon', `--config=${configPath}`], { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d))
  const code = await new Promise<number>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (c) => resolve(c ?? 128))
  })
  if (code !== 0) throw new Error(`${rsync} --daemon --config=${configPath} failed with status ${code}: ${output.trim()}`)
  const failed = async (why: string) => {
    const log = await logSince(files.logFile, logStart)
    const inUse = /address already in use/i.test(log) ? ` (port ${port} is in use by another program)` : ''
    return new Error(`the image rsync daemon ${why}${inUse}${log ? `; ${files.logFile} says:\n${log}` : ''}`)
  }
  const deadline = Date.now() + START_TIMEOUT_MS
  let seen: number | undefined
  for (;;) {
    const pid = await readPid(files.pidFile)
    if (pid !== undefined && (await daemonConfig(pid)) === configPath) {
      seen = pid
      if (await listeningOn(pid, port)) return pid
    } else if (seen !== undefined) {
      throw await failed('exited right after it started')
    }
    if (Date.now() > deadline) throw await failed(`did not listen on port ${port} within ${START_TIMEOUT_MS / 1000} s`)
    await delay(20)
  }
}

/** True when `pid` is gone or a zombie. */
async function processEnded(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined)
  return stat === undefined || /^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2))
}

/** True when the daemon `pid` has exited, or its pid now belongs to another program; not while it is still exiting (empty cmdline). */
async function daemonExited(pid: number): Promise<boolean> {
  if (await processEnded(pid)) return true
  const cmdline = await commandLine(pid)
  return cmdline !== '' && configOf(cmdline) === undefined
}

async function terminate(pid: number, pidFile: string): Promise<void> {
  for (const [signal, wait] of [['SIGTERM', STOP_TIMEOUT_MS], ['SIGKILL', 2000]] as const) {
    try {
      process.kill(pid, signal)
    } catch {
      return
    }
    const deadline = Date.now() + wait
    while (Date.now() < deadline) {
      if (await daemonExited(pid)) {
        if ((await readPid(pidFile)) === pid) await rm(pidFile, { force: true })
        return
      }
      await delay(10)
    }
  }
  throw new Error(`the image rsync daemon (pid ${pid}) does not exit`)
}

const queues = new Map<string, Promise<unknown>>()

function serialized<T>(key: string, task: () => Promise<T>): Promise<T> {
  const run = (queues.get(key) ?? Promise.resolve()).then(task, task)
  const settled = run.catch(() => undefined)
  queues.set(key, settled)
  void settled.then(() => queues.get(key) === settled && queues.delete(key))
  return run
}

/** The config path of the live rsync daemon `pid` when that config names `pidFile` (a reused pid is someone else's). */
async function ourDaemonConfig(pid: number, pidFile: string): Promise<string | undefined> {
  const config = await daemonConfig(pid)
  if (!config) return undefined
  const text = await readFile(config, 'utf8').catch(() => '')
  return text.split('\n').includes(`pid file = ${pidFile}`) ? config : undefined
}

/** The pid of our running image rsync daemon, if any. */
export async function runningImageRsyncDaemon(stateDir?: string): Promise<number | undefined> {
  const pid = await readPid(rsyncDaemonFiles(stateDir).pidFile)
  return pid !== undefined && (await ourDaemonConfig(pid, rsyncDaemonFiles(stateDir).pidFile)) !== undefined ? pid : undefined
}

/** Writes the daemon's config and makes sure it runs; it restarts only for settings rsync reads at startup (port, address, files). */
export function ensureImageRsyncDaemon(options: ImageRsyncDaemonOptions): Promise<ImageRsyncDaemonState> {
  const files = rsyncDaemonFiles(options.stateDir)
  return serialized(files.pidFile, async () => {
    const text = imageRsyncdConf(options)
    const configPath = imageRsyncdConfPath(options.dirs)
    const port = options.port ?? DEFAULT_PORT
    const previous = await readFile(configPath, 'utf8').catch(() => undefined)
    const changed = previous !== text
    const pid = await readPid(files.pidFile)
    const runningConfig = pid === undefined ? undefined : await ourDaemonConfig(pid, files.pidFile)
    const running = pid !== undefined && runningConfig !== undefined
    const restart = !running || runningConfig !== configPath || requiresRestart(previous, text)
    // a busy new port must cost neither the running daemon nor its config; the old port is only free once it has gone
    const checkFirst = restart && running && previous !== undefined && configPort(previous) !== port
    if (checkFirst) await assertPortFree(port, options.address)
    if (changed) await writeFileAtomic(configPath, text, 0o644)
    if (!restart) return { configPath, pid, restarted: false, started: false, changed }
    await Promise.all([options.dirs.scripts, options.dirs.overrides, ...Object.values(files).map((f) => dirname(f))].map((d) => mkdir(d, { recursive: true })))
    if (running) await terminate(pid, files.pidFile)
    if (!checkFirst) await assertPortFree(port, options.address)
    const started = await startDaemon(options.rsync ?? 'rsync', configPath, files, port)
    options.log?.info(running ? 'restarted the image rsync daemon' : 'started the image rsync daemon', { pid: started, port, config: configPath })
    return { configPath, pid: started, restarted: running, started: !running, changed }
  })
}

/** Stops our image rsync daemon (the one whose pid file is in `stateDir`); false when none was running. */
export function stopImageRsyncDaemon(stateDir?: string): Promise<boolean> {
  const { pidFile } = rsyncDaemonFiles(stateDir)
  return serialized(pidFile, async () => {
    const pid = await readPid(pidFile)
    if (pid === undefined || (await ourDaemonConfig(pid, pidFile)) === undefined) return false
    await terminate(pid, pidFile)
    return true
  })
}
