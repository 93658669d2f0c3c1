import { readdir } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Logger } from '../log.js'
import { isXcatPlugin, type XcatPlugin } from './plugin.js'

/** One registered way a plugin handles a command. */
export interface CommandHandler {
  readonly plugin: XcatPlugin
  readonly spec: string
}

/** The plugins shipped with us: `plugins/` beside `lib/` (source or compiled). */
export const DEFAULT_PLUGIN_DIR = fileURLToPath(new URL('../../plugins/', import.meta.url))

/** Loaded plugins and, per command, the handlers in load order. */
export class PluginRegistry {
  readonly #plugins = new Map<string, XcatPlugin>()
  readonly #handlers = new Map<string, CommandHandler[]>()

  /** Registers a plugin; false (and a log line) when its shape or its handled commands are broken. */
  register(candidate: unknown, log: Logger, origin = 'inline'): boolean {
    if (!isXcatPlugin(candidate)) {
      log.error('plugin skipped: it does not export an xCAT plugin (name, handledCommands, processRequest)', { origin })
      return false
    }
    let commands: Readonly<Record<string, unknown>>
    try {
      commands = candidate.handledCommands()
      for (const [command, spec] of Object.entries(commands)) {
        const specs = Array.isArray(spec) ? spec : [spec]
        if (!command || specs.length === 0 || !specs.every((s) => typeof s === 'string' && s !== '')) throw new Error(`bad handler for ${command}`)
      }
    } catch (err) {
      log.error('plugin skipped: handledCommands failed', { origin, plugin: candidate.name, err: (err as Error).message })
      return false
    }
    if (this.#plugins.has(candidate.name)) {
      log.error('plugin skipped: a plugin of that name is already loaded', { origin, plugin: candidate.name })
      return false
    }
    this.#plugins.set(candidate.name, candidate)
    for (const [command, spec] of Object.entries(commands)) {
      const list = this.#handlers.get(command) ?? []
      for (const s of Array.isArray(spec) ? spec : [spec]) list.push({ plugin: candidate, spec: s as string })
      this.#handlers.set(command, list)
    }
    return true
  }

  /** Imports every plugin module in `dir`; a module that fails to load is logged and skipped. */
  async loadDirectory(dir: string, log: Logger): Promise<void> {
    const files = (await readdir(dir)).filter((f) => ['.js', '.ts'].includes(extname(f)) && !f.endsWith('.d.ts')).sort()
    for (const file of files) {
      const path = join(dir, file)
      try {
        const mod = (await import(pathToFileURL(path).href)) as { default?: unknown; plugin?: unknown }
        this.register(mod.default ?? mod.plugin, log, path)
      } catch (err) {
        log.error('plugin skipped: it failed to load', { origin: path, err: (err as Error).message })
      }
    }
  }

  /** The handlers of `command`, in registration order. */
  handlers(command: string): readonly CommandHandler[] {
    return this.#handlers.get(command) ?? []
  }

  /** The plugin named `name`. */
  plugin(name: string): XcatPlugin | undefined {
    return this.#plugins.get(name)
  }

  /** Names of the loaded plugins. */
  names(): string[] {
    return [...this.#plugins.keys()]
  }
}
