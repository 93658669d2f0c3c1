import net from 'node:net'

/** Talks to the install monitor as a node's updateflag.awk does: wait for ready, send one line, read until close. */
export function monitorExchange(port: number, line: string | undefined, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port })
    let got = ''
    socket.setEncoding('utf8')
    socket.on('data', (d: string) => {
      got += d
      if (got === 'ready\n' && line !== undefined) socket.write(`${line}\n`)
    })
    socket.on('close', () => resolve(got))
    socket.on('error', reject)
  })
}
