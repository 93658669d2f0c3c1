import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { startSshMaster } from '../../lib/exec/ssh-master.js'
import { PROJECT_ROOT } from '../../lib/paths.js'
import { settle } from './helpers/lab.js'
import { runProcess, useTestHosts, type TestHost } from './helpers/test-hosts.js'

/** The pids of the ssh processes whose command line names `socket`. */
async function sshProcessesOf(socket: string): Promise<string[]> {
  const res = await runProcess('pgrep', ['-f', `ControlPath=${socket}`])
  return res.stdout.split('\n').filter((l) => l.trim() !== '')
}

describe('one OpenSSH connection to a node, shared by its commands', function () {
  this.timeout(120_000)
  const hosts = useTestHosts()
  let node: TestHost
  let dir: string | undefined

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xcat-ssh-'))
    node = await hosts.create({ name: 'sshnode', disk: false, rootfs: 'tmpfs' })
  })
  after(() => dir && rmSync(dir, { recursive: true, force: true }))

  it('runs commands over the connection, quoted for the node\'s shell, and ends it on close', async () => {
    const socket = join(dir!, 'a')
    const master = startSshMaster(node.ip, node.mnKey.privateKey, socket)
    try {
      expect(await master.connected()).to.equal(undefined)
      const res = await master.run(['printf', '%s|', 'two words', '$HOME', ';reboot'])
      expect(res.code, res.stderr).to.equal(0)
      expect(res.stdout).to.equal('two words|$HOME|;reboot|')
      expect((await master.run(['sh', '-c', 'exit 7'])).code).to.equal(7)
    } finally {
      master.close()
    }
    expect(await settle(() => sshProcessesOf(socket), (p) => p.length === 0)).to.deep.equal([])
    expect(existsSync(socket)).to.equal(false)
  })

  it('does not outlive the process that opened it, even when that process is killed', async () => {
    const socket = join(dir!, 'c')
    const holder = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'test', 'fixtures', 'ssh', 'hold-master.ts'), node.ip, node.mnKey.privateKey, socket], { stdio: ['ignore', 'pipe', 'inherit'] })
    const said = await new Promise<string>((resolve) => holder.stdout.once('data', (d: Buffer) => resolve(d.toString())))
    expect(said).to.equal('up\n')
    expect(await sshProcessesOf(socket)).to.have.length(1)
    holder.kill('SIGKILL')
    expect(await settle(() => sshProcessesOf(socket), (p) => p.length === 0, 15_000)).to.deep.equal([])
  })
})
