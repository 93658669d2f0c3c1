import { spawn } from 'node:child_process'

/** What a finished command printed and returned. */
export interface CommandOutput {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
  /** The signal that ended it, when it was killed. */
  readonly signal?: string
}

/** Options of {@link runCommand}. */
export interface RunOptions {
  readonly signal?: AbortSignal
  readonly env?: NodeJS.ProcessEnv
  readonly cwd?: string
  readonly input?: string
  /** A descriptor the program writes its stdout to instead of a pipe; the returned stdout is then empty. */
  readonly stdoutFd?: number
  /** Called with stdout as it arrives (the whole output is still returned). */
  readonly onStdout?: (chunk: string) => void
  readonly onStderr?: (chunk: string) => void
}

/** Runs a program with an argument array (never through a shell); an abort kills it with SIGTERM. */
export function runCommand(argv: readonly string[], options: RunOptions = {}): Promise<CommandOutput> {
  const [file, ...args] = argv
  if (!file) return Promise.reject(new Error('empty command'))
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['pipe', options.stdoutFd ?? 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
      options.onStdout?.(d)
    })
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
      options.onStderr?.(d)
    })
    const abort = () => child.kill('SIGTERM')
    options.signal?.addEventListener('abort', abort, { once: true })
    child.on('error', (err) => {
      options.signal?.removeEventListener('abort', abort)
      reject(err)
    })
    child.on('close', (code, signal) => {
      options.signal?.removeEventListener('abort', abort)
      resolve({ code: code ?? 128, stdout, stderr, ...(signal ? { signal } : {}) })
    })
    child.stdin?.on('error', () => undefined)
    child.stdin?.end(options.input ?? '')
  })
}
