import { randomBytes } from 'node:crypto'
import { linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { GRUB2_DIR } from './grub2.js'
import { PETITBOOT_DIR } from './petitboot.js'
import { PXE_DIR } from './pxe.js'
import type { BootFiles, BootLoader } from './types.js'
import { XNBA_DIR } from './xnba.js'

const CONFIG_DIRS: Record<BootLoader, string> = { xnba: XNBA_DIR, pxe: PXE_DIR, grub2: GRUB2_DIR, petitboot: PETITBOOT_DIR }

const LIST_DIR_FROM = 64

const TMP_TAG = `${process.pid}-${randomBytes(3).toString('hex')}`
let tmpSeq = 0

function unlinkIfThere(path: string): void {
  try {
    unlinkSync(path)
  } catch (err) {
    if (!isMissing(err)) throw err
  }
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT'
}

class Applier {
  private readonly dirs = new Set<string>()
  private readonly inodeIndex = new Map<string, Map<number, Set<string>>>()
  private readonly written = new Set<string>()
  private readonly linked = new Set<string>()
  readonly errors: Error[] = []

  constructor(private readonly root: string) {}

  private attempt(what: string, path: string, op: () => void): void {
    try {
      op()
    } catch (err) {
      this.errors.push(new Error(`${what} ${path}: ${(err as Error).message}`, { cause: err }))
    }
  }

  private ensureDir(dir: string): void {
    if (this.dirs.has(dir)) return
    mkdirSync(dir, { recursive: true })
    this.dirs.add(dir)
  }

  private replace(path: string, create: (tmp: string) => void): void {
    const dir = dirname(path)
    this.ensureDir(dir)
    const tmp = `${dir}/.${basename(path)}.${TMP_TAG}-${++tmpSeq}.tmp`
    try {
      create(tmp)
      renameSync(tmp, path)
    } catch (err) {
      try {
        unlinkSync(tmp)
      } catch {
        // the temporary name was never created
      }
      throw err
    }
  }

  private namesByInode(dir: string): Map<number, Set<string>> {
    let index = this.inodeIndex.get(dir)
    if (index) return index
    index = new Map()
    for (const name of readdirSync(dir)) {
      const st = lstatSync(join(dir, name), { throwIfNoEntry: false })
      if (!st?.isFile() || st.nlink < 2) continue
      let names = index.get(st.ino)
      if (!names) index.set(st.ino, names = new Set())
      names.add(name)
    }
    this.inodeIndex.set(dir, index)
    return index
  }

  dropLinks(rel: string, keep: ReadonlySet<string>): void {
    const path = join(this.root, rel)
    this.attempt('unlinking the other names of', path, () => {
      const st = lstatSync(path, { throwIfNoEntry: false })
      if (!st?.isFile() || st.nlink < 2) return
      const dir = dirname(path)
      let accounted = 1
      for (const other of keep) {
        if (other === path || dirname(other) !== dir) continue
        const ost = lstatSync(other, { throwIfNoEntry: false })
        if (ost && ost.ino === st.ino && ost.dev === st.dev) accounted++
      }
      if (accounted >= st.nlink) return
      const names = this.namesByInode(dir).get(st.ino)
      if (!names) return
      for (const name of names) {
        const other = join(dir, name)
        if (other === path || keep.has(other)) continue
        unlinkIfThere(other)
        names.delete(name)
      }
    })
  }

  /** Most names to remove do not exist and a failed unlink costs an exception, so look before unlinking. */
  removeAll(rels: Iterable<string>): void {
    const byDir = new Map<string, string[]>()
    for (const rel of rels) {
      const path = join(this.root, rel)
      const dir = dirname(path)
      const paths = byDir.get(dir)
      if (paths) paths.push(path)
      else byDir.set(dir, [path])
    }
    for (const [dir, paths] of byDir) {
      const listing = paths.length >= LIST_DIR_FROM ? this.list(dir) : undefined
      for (const path of paths) {
        this.attempt('removing', path, () => {
          if (listing ? listing.has(basename(path)) : lstatSync(path, { throwIfNoEntry: false })) unlinkIfThere(path)
        })
      }
    }
  }

  private list(dir: string): Set<string> | undefined {
    try {
      return new Set(readdirSync(dir))
    } catch (err) {
      return isMissing(err) ? new Set() : undefined
    }
  }

  write(rel: string, content: string): void {
    const path = join(this.root, rel)
    this.attempt('writing', path, () => {
      this.replace(path, (tmp) => writeFileSync(tmp, content))
      this.written.add(path)
    })
  }

  symlink(rel: string, target: string): void {
    const path = join(this.root, rel)
    this.attempt('linking', path, () => this.replace(path, (tmp) => symlinkSync(target, tmp)))
  }

  hardlink(rel: string, targetRel: string): void {
    const path = join(this.root, rel)
    const target = join(this.root, targetRel)
    this.attempt('linking', path, () => {
      if (!this.written.has(target) || this.linked.has(path)) {
        // rename() between two names of one inode is a no-op that would leave the temporary name behind
        const now = lstatSync(path, { throwIfNoEntry: false })
        const want = lstatSync(target)
        if (now && now.ino === want.ino && now.dev === want.dev) return
      }
      this.replace(path, (tmp) => linkSync(target, tmp))
      this.linked.add(path)
    })
  }
}

/** Applies change sets under a tftpdir, each name replaced atomically (temporary name + rename); failures are collected and thrown as one AggregateError. */
export function applyBootFiles(tftpdir: string, sets: readonly BootFiles[]): void {
  const applier = new Applier(tftpdir)
  for (const set of sets) {
    if (!set.dropLinksOf?.length) continue
    const keep = new Set([...set.files, ...set.hardlinks].map((entry) => join(tftpdir, entry.path)))
    for (const rel of set.dropLinksOf) applier.dropLinks(rel, keep)
  }
  applier.removeAll(sets.flatMap((set) => set.remove))
  for (const set of sets) for (const file of set.files) applier.write(file.path, file.content)
  for (const set of sets) for (const link of set.symlinks) applier.symlink(link.path, link.target)
  for (const set of sets) for (const link of set.hardlinks) applier.hardlink(link.path, link.target)
  if (applier.errors.length) {
    throw new AggregateError(applier.errors, `${applier.errors.length} boot file change(s) failed, first: ${applier.errors[0]!.message}`)
  }
}

/** A node's boot configuration file for a loader, relative to the tftpdir. */
export function bootConfigPath(loader: BootLoader, node: string): string {
  return `${CONFIG_DIRS[loader]}/${node}`
}

/** The state recorded in a node's boot configuration (xnba: its second line, others: the first), undefined without a file. */
export function bootState(tftpdir: string, loader: BootLoader, node: string): string | undefined {
  let text: string
  try {
    text = readFileSync(join(tftpdir, bootConfigPath(loader, node)), 'utf8')
  } catch (err) {
    if (isMissing(err)) return undefined
    throw err
  }
  const lines = text.split('\n', 2)
  return (loader === 'xnba' ? lines[1] : lines[0])?.replace(/^#/, '') ?? ''
}

/** What `nodeset <node> stat` answers: the recorded state, else xCAT's per-loader fallback (pxe: boot, others: offline). */
export function nodesetStat(tftpdir: string, loader: BootLoader, node: string): string {
  const state = bootState(tftpdir, loader, node)
  if (state !== undefined) return state
  if (loader === 'xnba') return bootState(tftpdir, 'pxe', node) ?? 'offline'
  return loader === 'pxe' ? 'boot' : 'offline'
}
