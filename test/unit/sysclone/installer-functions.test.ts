import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { expect } from 'chai'
import { startFakeInstallMonitor } from '../../helpers/fake-install-monitor.js'

const run = promisify(execFile)
const SHARE = join(import.meta.dirname, '../../../share/xcat/sysclone')

/** Runs sh code with the function library loaded; its stdout. */
async function sh(code: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const { stdout } = await run('sh', ['-c', `. "$1"\n${code}`, 'sh', join(SHARE, 'functions')], { env: { PATH: process.env.PATH, ...env } })
  return stdout
}

describe('sysclone installer functions', function () {
  this.timeout(30_000)

  it('picks pre- and post-install scripts in SystemImager\'s class order: all, image, base host, groups, host', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'post-'))
    try {
      for (const f of ['10all.a', '20all.b~', '05img1.c', '30compute.d', '40node.e', '15node07.f', '99other.g', '50all.with space', '01all.z', 'README']) writeFileSync(join(dir, f), '')
      mkdirSync(join(dir, '60all.dir'))
      const out = await sh('sysclone_select_scripts "$D"', { D: dir, IMAGENAME: 'img1', GROUPNAMES: 'compute rack1 img1', HOSTNAME: 'node07' })
      expect(out.trim().split('\n')).to.deep.equal(['01all.z', '10all.a', '05img1.c', '40node.e', '30compute.d', '15node07.f'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('quotes values for variables.txt, leaving plain words as SystemImager wrote them', async () => {
    const out = await sh(`for v in node01 '' 'a b' "it's" '$(x)' 10.0.0.1:873; do sysclone_quote "$v"; echo; done`)
    expect(out.split('\n').slice(0, 6)).to.deep.equal(['node01', "''", "'a b'", "'it'\\''s'", "'$(x)'", '10.0.0.1:873'])
  })

  it('reads the MAC address of a PXE BOOTIF, also one genesis already rewrote', async () => {
    const out = await sh('sysclone_bootif_mac 01-AA-bb-0C-dd-ee-FF; sysclone_bootif_mac aa:bb:cc:dd:ee:ff')
    expect(out).to.equal('aa:bb:0c:dd:ee:ff\naa:bb:cc:dd:ee:ff\n')
  })

  it('names partitions of disks whose names end in a digit with a p', async () => {
    const out = await sh('for d in /dev/sda /dev/nvme0n1 /dev/mmcblk1 /dev/loop3 /dev/md127 /dev/xvda; do sysclone_part_dev "$d" 12; done')
    expect(out.trim().split('\n')).to.deep.equal(['/dev/sda12', '/dev/nvme0n1p12', '/dev/mmcblk1p12', '/dev/loop3p12', '/dev/md127p12', '/dev/xvda12'])
  })

  for (const via of ['bash', 'socat', 'perl', 'python3']) {
    it(`reports a status line to xcatd's install monitor with ${via}`, async function () {
      if ((await run('sh', ['-c', `command -v ${via}`]).catch(() => undefined)) === undefined) this.skip()
      const monitor = await startFakeInstallMonitor('127.0.0.1')
      try {
        await sh('sysclone_report "installstatus failed:image"', { MASTER: '127.0.0.1', XCATIPORT: String(monitor.port), XCAT_SYSCLONE_REPORT_VIA: via })
        expect(monitor.reports).to.deep.equal([{ from: '127.0.0.1', line: 'installstatus failed:image' }])
      } finally {
        await monitor.close()
      }
    })
  }

  it('gives up reporting after its tries when nothing listens, and says so', async () => {
    const monitor = await startFakeInstallMonitor('127.0.0.1')
    const port = monitor.port
    await monitor.close()
    const out = await sh('sysclone_report "installstatus installing" || echo "status $?"', { MASTER: '127.0.0.1', XCATIPORT: String(port), XCAT_SYSCLONE_REPORT_TRIES: '1' })
    expect(out).to.equal(`sysclone: could not send "installstatus installing" to 127.0.0.1:${port}\nstatus 1\n`)
  })

  it('fails a step with its reason: status file, report, exit 1', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'fail-'))
    const monitor = await startFakeInstallMonitor('127.0.0.1')
    try {
      const res = await run('sh', ['-c', `. "$1"; broken() { sysclone_error "no luck"; }; sysclone_step partition broken; echo not reached`, 'sh', join(SHARE, 'functions')], {
        env: { PATH: process.env.PATH, MASTER: '127.0.0.1', XCATIPORT: String(monitor.port), XCAT_SYSCLONE_TMP: tmp },
      }).then(() => ({ code: 0, stdout: '' }), (e: { code: number; stdout: string }) => e)
      expect(res.code).to.equal(1)
      expect(res.stdout).to.equal('sysclone: step partition\nsysclone: ERROR: no luck\nsysclone: FATAL: step partition failed: no luck\nsysclone: The node stays in the installer; the log of this installation is above.\n')
      expect(readFileSync(join(tmp, 'sysclone.status'), 'utf8')).to.equal('failed:partition\n')
      expect(monitor.reports.map((r) => r.line)).to.deep.equal(['installstatus failed:partition'])
    } finally {
      await monitor.close()
      rmSync(tmp, { recursive: true, force: true })
    }
  })

  it('refuses a disk list that is not what the layout needs', async () => {
    const out = await sh('sysclone_choose_disks 1 || echo "$SYSCLONE_WHY"; sysclone_choose_disks 2 || echo "$SYSCLONE_WHY"', { INSTALL_DISK: '/dev/null' })
    expect(out).to.include('/dev/null is not a block device\n')
    const none = await sh('sysclone_choose_disks 1 || echo "$SYSCLONE_WHY"', { INSTALL_DISK: ' , ' })
    expect(none).to.include('the image needs 1 disks, INSTALL_DISK names 0\n')
  })

  it('installer: usage, and a clear failure without an image server', async () => {
    const installer = join(SHARE, 'installer')
    expect((await run(installer, ['--help'])).stdout).to.equal('Usage: installer [--cmdline FILE]\n')
    const bad = await run(installer, ['--bogus']).then(() => 0, (e: { code: number }) => e.code)
    expect(bad).to.equal(2)
    const tmp = mkdtempSync(join(tmpdir(), 'inst-'))
    try {
      writeFileSync(join(tmp, 'cmdline'), 'quiet console=ttyS0 SCRIPTNAME=img1\n')
      const res = await run(installer, ['--cmdline', join(tmp, 'cmdline')], { env: { PATH: process.env.PATH, XCAT_SYSCLONE_TMP: tmp } }).then(() => ({ code: 0, stdout: '' }), (e: { code: number; stdout: string }) => e)
      expect(res.code).to.equal(1)
      expect(res.stdout).to.include('sysclone: FATAL: step cmdline failed: no image server: the kernel command line has neither xcatd= nor IMAGESERVER=\n')
      expect(readFileSync(join(tmp, 'sysclone.status'), 'utf8')).to.equal('failed:cmdline\n')
      expect(readFileSync(join(tmp, 'sysclone.log'), 'utf8')).to.equal(res.stdout)
    } finally {
      rmSync(tmp, { recursive: true, force: true })
    }
  })
})
