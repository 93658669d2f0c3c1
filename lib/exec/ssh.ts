import { createWriteStream, existsSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { Client } from 'ssh2'
import { shellCommand } from './quote.js'
import type { CommandOutput } from './command.js'

/** The private key the management node uses to reach nodes as root: XCAT_SSH_IDENTITY, else root's usual keys. */
export function sshIdentity(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string | undefined {
  if (env.XCAT_SSH_IDENTITY) return env.XCAT_SSH_IDENTITY
  return ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((k) => join(home, '.ssh', k)).find((p) => existsSync(p))
}

/** OpenSSH options for programs that run `ssh` themselves (rsync -e): the identity, batch mode, no host-key prompts. */
export function opensshOptions(identity: string | undefined, connectTimeoutSec = 10): string[] {
  return [
    ...(identity ? ['-i', identity] : []),
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'LogLevel=ERROR',
    '-o', `ConnectTimeout=${connectTimeoutSec}`,
    '-o', 'ServerAliveInterval=10',
    '-o', 'ServerAliveCountMax=3',
  ]
}

/** A connection failure, with the reason in words an administrator can act on. */
export class SshConnectError extends Error {}

/** An SSH session to a node as root (ssh2), running commands given as argument arrays. */
export class SshSession {
  private constructor(private readonly client: Client) {}

  /** Connects to `host` as root with the private key at `identity`. */
  static async connect(host: string, options: { identity?: string; port?: number; timeoutMs?: number } = {}): Promise<SshSession> {
    const client = new Client()
    const key = options.identity ? readFileSync(options.identity) : undefined
    if (!key) throw new SshConnectError('no SSH private key for root (set XCAT_SSH_IDENTITY or create ~/.ssh/id_ed25519)')
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve())
      client.once('error', (err: Error & { level?: string }) => {
        const why = err.level === 'client-authentication' ? 'the node refused the management node\'s SSH key' : err.message
        reject(new SshConnectError(why))
      })
      client.connect({ host, port: options.port ?? 22, username: 'root', privateKey: key, readyTimeout: options.timeoutMs ?? 15_000, keepaliveInterval: 15_000 })
    })
    return new SshSession(client)
  }

  /** Runs `argv` on the node (quoted for its shell); resolves with its exit code and output. */
  run(argv: readonly string[], options: { signal?: AbortSignal; input?: string } = {}): Promise<CommandOutput> {
    return new Promise((resolve, reject) => {
      this.client.exec(shellCommand(argv), (err, stream) => {
        if (err) return reject(err)
        let stdout = ''
        let stderr = ''
        const abort = () => stream.close()
        options.signal?.addEventListener('abort', abort, { once: true })
        stream.on('data', (d: Buffer) => (stdout += d.toString()))
        stream.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
        stream.on('close', (code: number | null, signal?: string) => {
          options.signal?.removeEventListener('abort', abort)
          resolve({ code: code ?? 255, stdout, stderr, ...(signal ? { signal } : {}) })
        })
        stream.end(options.input ?? '')
      })
    })
  }

  /** Runs `argv` on the node and writes its stdout, as bytes, to the local file `path`. */
  runToFile(argv: readonly string[], path: string, options: { signal?: AbortSignal } = {}): Promise<{ code: number; stderr: string }> {
    return new Promise((resolve, reject) => {
      this.client.exec(shellCommand(argv), (err, stream) => {
        if (err) return reject(err)
        const file = createWriteStream(path)
        let stderr = ''
        let code = 255
        const abort = () => stream.close()
        options.signal?.addEventListener('abort', abort, { once: true })
        stream.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
        stream.on('exit', (c: number | null) => (code = c ?? 255))
        stream.pipe(file)
        file.on('error', reject)
        file.on('finish', () => {
          options.signal?.removeEventListener('abort', abort)
          resolve({ code, stderr })
        })
        stream.end()
      })
    })
  }

  /** Closes the connection. */
  close(): void {
    this.client.end()
  }
}
