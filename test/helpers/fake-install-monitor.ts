import { createServer } from 'node:net'

/** What a node said to a fake install monitor, and from where. */
export interface MonitorReport {
  readonly from: string
  readonly line: string
}

/** A stand-in for xcatd's install monitor (port 3002) that only records what nodes report. */
export interface FakeInstallMonitor {
  readonly port: number
  readonly reports: MonitorReport[]
  close(): Promise<void>
}

/**
 * Listens on `host` (any free port) and speaks xcatd's install monitor protocol: "ready", one line from the node,
 * "done", then the connection ends; each line is kept in `reports`.
 */
export async function startFakeInstallMonitor(host: string): Promise<FakeInstallMonitor> {
  const reports: MonitorReport[] = []
  const server = createServer((socket) => {
    socket.on('error', () => undefined)
    socket.write('ready\n')
    let buffer = ''
    socket.on('data', (b: Buffer) => {
      buffer += b.toString()
      const nl = buffer.indexOf('\n')
      if (nl < 0) return
      reports.push({ from: (socket.remoteAddress ?? '').replace(/^::ffff:/, ''), line: buffer.slice(0, nl) })
      socket.end('done\n')
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, resolve)
  })
  return {
    port: (server.address() as { port: number }).port,
    reports,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
