import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import tls from 'node:tls'
import { submitRequest, type XcatdTarget } from '../lib/client/tls-client.js'
import { encodeResponses } from '../lib/protocol/codec.js'
import { DocumentFramer } from '../lib/protocol/framer.js'

const DURATION_MS = 4000
const ROOT = join(import.meta.dirname, '..')

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0
}

function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
}

/** Runs `clients` loops of `tabdump site` for DURATION_MS; returns requests/s and latency percentiles. */
async function load(target: XcatdTarget, clients: number): Promise<{ rps: number; p50: number; p99: number }> {
  const latencies: number[] = []
  const end = performance.now() + DURATION_MS
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const start = performance.now()
        await submitRequest(target, { command: ['tabdump'], arg: ['site'] }, () => undefined)
        latencies.push(performance.now() - start)
      }
    }),
  )
  latencies.sort((a, b) => a - b)
  return { rps: latencies.length / (DURATION_MS / 1000), p50: percentile(latencies, 50), p99: percentile(latencies, 99) }
}

/** A TLS server that answers every request with a fixed tabdump-sized reply: the floor for one TLS request. */
function baselineServer(cred: Buffer, reply: string): Promise<{ server: tls.Server; port: number }> {
  const server = tls.createServer({ key: cred, cert: cred }, (socket) => {
    socket.setEncoding('utf8')
    const framer = new DocumentFramer('xcatrequest')
    socket.on('data', (chunk: string) => {
      if (framer.push(chunk).length) socket.write(reply)
    })
    socket.on('error', () => undefined)
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port })))
}

/** xcatd throughput: `tabdump site` over TLS with 1, 16 and 64 concurrent clients, against a bare TLS responder. */
export async function benchXcatdRequests(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'xcat-bench-'))
  const env = { ...process.env, HOME: dir, XCATCFG: `SQLite:${join(dir, 'db')}` }
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'xcatd-child.ts'), '--port', '0', '--iport', '0', '--listen', '127.0.0.1'], { env, cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] })
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let log = ''
      child.stderr?.on('data', (d: Buffer) => {
        log += d.toString()
        const m = /"port":(\d+)/.exec(log)
        if (m) resolve(Number(m[1]))
      })
      child.once('exit', () => reject(new Error(`xcatd exited: ${log}`)))
    })
    child.stderr?.resume()
    const cred = readFileSync(join(dir, '.xcat', 'client-cred.pem'))
    const target: XcatdTarget = { host: '127.0.0.1', port, key: cred, cert: cred, ca: readFileSync(join(dir, '.xcat', 'ca.pem')) }
    const sample: string[] = []
    await submitRequest(target, { command: ['tabdump'], arg: ['site'] }, (r) => sample.push(...((r.data as string[] | undefined) ?? [])))
    const reply = encodeResponses([{ data: sample }, { serverdone: [null] }], 'mn')
    const baseline = await baselineServer(readFileSync(join(dir, 'db', 'cert', 'server-cred.pem')), reply)
    const baseTarget: XcatdTarget = { host: '127.0.0.1', port: baseline.port, key: cred, cert: cred }
    console.log(`xcatd: tabdump site (${sample.length} lines) over TLS for ${DURATION_MS / 1000} s per row; baseline = bare TLS server sending the same reply`)
    console.log('clients   req/s    p50 ms   p99 ms   baseline req/s   ratio   xcatd RSS MB')
    for (const clients of [1, 16, 64]) {
      const ours = await load(target, clients)
      const floor = await load(baseTarget, clients)
      const rss = rssKb(child.pid ?? 0) / 1024
      console.log(`${String(clients).padStart(7)} ${ours.rps.toFixed(0).padStart(7)} ${ours.p50.toFixed(1).padStart(9)} ${ours.p99.toFixed(1).padStart(8)} ${floor.rps.toFixed(0).padStart(16)} ${(floor.rps / ours.rps).toFixed(2).padStart(7)}x ${rss.toFixed(0).padStart(13)}`)
    }
    baseline.server.close()
  } finally {
    child.kill('SIGTERM')
    rmSync(dir, { recursive: true, force: true })
  }
}
