import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Probe } from '../../../../lib/sysclone/layout/model.js'

/** Where the recorded layout fixtures live. */
export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/layout')

interface Commands {
  readonly run: Readonly<Record<string, string | { readonly file: string; readonly code: number }>>
  readonly files: Readonly<Record<string, string | null>>
  readonly exists: Readonly<Record<string, boolean>>
}

/** A probe answering from a fixture case's commands.json; anything it was not recorded with throws. */
export class ReplayProbe implements Probe {
  readonly calls: string[] = []
  private readonly commands: Commands

  constructor(readonly dir: string) {
    this.commands = JSON.parse(readFileSync(join(dir, 'commands.json'), 'utf8')) as Commands
  }

  /** The replay probe of fixture case `name`. */
  static of(name: string): ReplayProbe {
    return new ReplayProbe(join(FIXTURES, name))
  }

  /** A recorded file of the case. */
  read(file: string): string {
    return readFileSync(join(this.dir, file), 'utf8')
  }

  async run(argv: readonly string[]): Promise<{ stdout: string; stderr: string; code: number }> {
    const key = argv.join(' ')
    this.calls.push(key)
    const entry = this.commands.run[key]
    if (entry === undefined) throw new Error(`not recorded: ${key}`)
    const { file, code } = typeof entry === 'string' ? { file: entry, code: 0 } : entry
    return { stdout: this.read(file), stderr: '', code }
  }

  async readFile(path: string): Promise<string | undefined> {
    this.calls.push(`readFile ${path}`)
    const file = this.commands.files[path]
    if (file === undefined) throw new Error(`not recorded: readFile ${path}`)
    return file === null ? undefined : this.read(file)
  }

  async exists(path: string): Promise<boolean> {
    this.calls.push(`exists ${path}`)
    const found = this.commands.exists[path]
    if (found === undefined) throw new Error(`not recorded: exists ${path}`)
    return found
  }
}
