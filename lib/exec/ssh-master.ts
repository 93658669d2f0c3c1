import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { runCommand, type CommandOutput } from './command.js'
import { shellCommand } from './quote.js'
import { opensshOptions } from './ssh.js'

/**
 * One OpenSSH connection to a node as root, opened once: its commands, and other ssh programs given
 * `clientOptions` (rsync's), run over it without connecting again.
 */
export interface SshMaster {
  /** The ssh options that make an ssh command use this connection (it connects on its own if the master is gone). */
  readonly clientOptions: readonly string[]
  /** Waits until the connection is up: undefined then, or why it could not be made. */
  connected(timeoutMs?: number): Promise<string | undefined>
  /** Runs `argv` on the node (quoted for its shell); resolves with its exit code and output. */
  run(argv: readonly string[], options?: { signal?: AbortSignal }): Promise<CommandOutput>
  /** Closes the connection. */
  close(): void
}

/** ssh's last words, as a reason an administrator can act on. */
function reason(stderr: string, code: number | null): string {
  const last = stderr.trim().split('\n').filter((l) => l.trim() !== '').pop()?.replace(/^ssh: /, '')
  if (last && /Permission denied/.test(last)) return 'the node refused the management node\'s SSH key'
  return last ?? `ssh exited with status ${code ?? 'unknown'}`
}

/** Opens an OpenSSH control master to root@`host`, its socket at `socketPath` (in a directory only root can reach). */
export function startSshMaster(host: string, identity: string | undefined, socketPath: string): SshMaster {
  const options = opensshOptions(identity)
  const clientOptions = ['-o', 'ControlMaster=no', '-o', `ControlPath=${socketPath}`]
  // The master's own session reads its stdin until this process closes it or ends, however it ends: the connection
  // does not outlive the capture that opened it.
  const child = spawn('ssh', [...options, '-o', 'ControlMaster=yes', '-o', `ControlPath=${socketPath}`, '-o', 'ControlPersist=no', '-T', `root@${host}`, 'cat >/dev/null'], {
    stdio: ['pipe', 'ignore', 'pipe'],
  })
  child.stdin.on('error', () => undefined)
  let stderr = ''
  let ended: string | undefined
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  child.on('error', (err) => (ended = err.message))
  child.on('close', (code) => (ended ??= reason(stderr, code)))
  return {
    clientOptions,
    async connected(timeoutMs = 15_000) {
      for (const until = Date.now() + timeoutMs; Date.now() < until; await new Promise((r) => setTimeout(r, 10))) {
        if (ended !== undefined) return ended
        if (existsSync(socketPath)) return undefined
      }
      return ended ?? `no connection after ${Math.round(timeoutMs / 1000)} s`
    },
    run: (argv, opts = {}) =>
      runCommand(['ssh', ...options, ...clientOptions, `root@${host}`, '--', shellCommand(argv)], opts.signal ? { signal: opts.signal } : {}),
    close() {
      child.stdin.end()
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    },
  }
}
