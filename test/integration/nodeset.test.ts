import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { runCommand } from '../../lib/exec/command.js'
import { stopImageRsyncDaemon } from '../../lib/sysclone/rsync-daemon.js'
import { POST_INSTALL_SCRIPTS } from '../../lib/sysclone/post-install.js'
import { collectLayout } from '../../lib/sysclone/layout/collect.js'
import { ReplayProbe } from '../unit/sysclone/layout/replay-probe.js'
import { useTestDaemon } from '../helpers/daemon.js'
import { monitorExchange } from '../helpers/install-monitor.js'
import { freePort } from '../helpers/ports.js'

const EFI_KERNEL = Buffer.concat([Buffer.alloc(128), Buffer.from([0x50, 0x45, 0x00, 0x00, 0x64, 0x86]), Buffer.alloc(1024)])
const KCMD = (mac: string, image = 'img1') => `ramdisk_size=200000 ksdevice=${mac}  XCAT=127.0.0.1:3001 xcatd=127.0.0.1:3001 SCRIPTNAME=${image}`

describe('nodeset osimage=<sysclone image> through xcatd', function () {
  this.timeout(60_000)
  const root = mkdtempSync(join(tmpdir(), 'xcat-nodeset-'))
  const installdir = join(root, 'install')
  const tftpdir = join(root, 'tftpboot')
  const sysconf = join(root, 'etc')
  const rsyncState = join(root, 'rsyncd')
  const imageDir = join(installdir, 'sysclone', 'images', 'img1')
  const saved = { ...process.env }
  let rsyncPort = 0

  const suite = useTestDaemon({
    seed: async (tables) => {
      for (const [k, v] of Object.entries({ installdir, tftpdir })) await tables.setAttribs('site', { key: k }, { value: v })
      const nodes: Record<string, { ip: string; mac?: string; netboot?: string; xcatmaster?: string }> = {
        cn1: { ip: '127.0.0.1', mac: '42:00:0a:00:00:01', netboot: 'xnba' },
        cn2: { ip: '10.0.0.2', mac: '42:00:0a:00:00:02', netboot: 'grub2', xcatmaster: '127.0.0.1' },
        cn3: { ip: '10.0.0.3', mac: '42:00:0a:00:00:03', netboot: 'pxe' },
        cn4: { ip: '10.0.0.4', netboot: 'xnba' },
        cn5: { ip: '10.0.0.5', mac: '42:00:0a:00:00:05', netboot: 'xnba' },
        cn10: { ip: '10.0.0.10', mac: '42:00:0a:00:00:10', netboot: 'xnba' },
        cn11: { ip: '10.0.0.11', mac: '42:00:0a:00:00:11' },
        'ev;il$(x)': { ip: '10.0.0.12', mac: '42:00:0a:00:00:12', netboot: 'xnba' },
      }
      for (const [node, n] of Object.entries(nodes)) {
        await tables.setAttribs('nodelist', { node }, { groups: node.startsWith('ev') ? 'weird' : 'compute,all' })
        await tables.setAttribs('hosts', { node }, { ip: n.ip })
        if (n.mac) await tables.setAttribs('mac', { node }, { mac: n.mac })
        if (n.netboot) await tables.setAttribs('noderes', { node }, { netboot: n.netboot, ...(n.xcatmaster ? { xcatmaster: n.xcatmaster } : {}) })
      }
      await tables.setAttribs('nodehm', { node: 'cn5' }, { serialport: '0' })
      for (const image of ['img1', 'gone', 'nolayout']) {
        await tables.setAttribs('osimage', { imagename: image }, { provmethod: 'sysclone', osvers: 'rhels9.4', osarch: 'x86_64', profile: 'compute', imagetype: 'linux' })
      }
      await tables.setAttribs('linuximage', { imagename: 'img1' }, { rootimgdir: imageDir })
      await tables.setAttribs('linuximage', { imagename: 'nolayout' }, { rootimgdir: join(installdir, 'sysclone', 'images', 'nolayout') })
      await tables.setAttribs('linuximage', { imagename: 'gone' }, { rootimgdir: join(installdir, 'sysclone', 'images', 'gone') })
      await tables.setAttribs('osimage', { imagename: 'nomethod' }, { osvers: 'rhels9.4', osarch: 'x86_64' })
    },
  })

  before(async () => {
    rsyncPort = await freePort()
    Object.assign(process.env, { XCAT_SYSCONFDIR: sysconf, XCAT_SYSCLONE_RSYNC_PORT: String(rsyncPort), XCAT_SYSCLONE_RSYNC_STATEDIR: rsyncState })
    mkdirSync(join(tftpdir, 'xcat'), { recursive: true })
    writeFileSync(join(tftpdir, 'xcat', 'genesis.kernel.x86_64'), EFI_KERNEL)
    writeFileSync(join(tftpdir, 'xcat', 'genesis.fs.x86_64.lzma'), 'initrd')
    mkdirSync(join(tftpdir, 'boot', 'grub2'), { recursive: true })
    writeFileSync(join(tftpdir, 'boot', 'grub2', 'grub2.x86_64'), 'grub')
    mkdirSync(join(installdir, 'postscripts'), { recursive: true })
    for (const name of [...POST_INSTALL_SCRIPTS.values(), 'xcatdsklspost']) writeFileSync(join(installdir, 'postscripts', name), `#!/bin/sh\necho ${name}\n`)
    mkdirSync(join(imageDir, 'etc', 'systemimager'), { recursive: true })
    writeFileSync(join(imageDir, 'etc', 'hostname'), 'golden\n')
    writeFileSync(join(imageDir, 'etc', 'systemimager', 'layout.json'), JSON.stringify(await collectLayout(ReplayProbe.of('gpt'))))
    mkdirSync(join(installdir, 'sysclone', 'images', 'nolayout', 'etc'), { recursive: true })
    mkdirSync(join(sysconf), { recursive: true })
    writeFileSync(join(sysconf, 'hosts'), '127.0.0.1 localhost\n10.0.0.2 cn2\n')
    mkdirSync(join(installdir, 'sysclone', 'scripts'), { recursive: true })
    writeFileSync(join(installdir, 'sysclone', 'scripts', 'cluster.txt'), 'cn10:compute:older:\ncn1:compute:older:\n')
  })

  after(async () => {
    await stopImageRsyncDaemon(rsyncState)
    for (const key of ['XCAT_SYSCONFDIR', 'XCAT_SYSCLONE_RSYNC_PORT', 'XCAT_SYSCLONE_RSYNC_STATEDIR']) {
      if (saved[key] === undefined) delete process.env[key]
      else process.env[key] = saved[key]
    }
    rmSync(root, { recursive: true, force: true })
  })

  const nodeset = (...args: string[]) => suite.xcatd.run(suite.creds.rootHome, 'nodeset', args)

  it('prepares nodes of every boot loader and prints their destiny', async () => {
    const r = await nodeset('cn1,cn2,cn3', 'osimage=img1')
    expect(r.stderr).to.equal('')
    expect(r.stdout.split('\n').filter(Boolean).sort()).to.deep.equal(['cn1: sysclone rhels9.4-x86_64', 'cn2: sysclone rhels9.4-x86_64', 'cn3: sysclone rhels9.4-x86_64'])
    expect(r.code).to.equal(0)
  })

  it('updates nodetype from the image and sets the chain as xCAT does', async () => {
    for (const node of ['cn1', 'cn2', 'cn3']) {
      const t = await suite.tables.getAttribs('nodetype', { node })
      expect(t).to.include({ provmethod: 'img1', os: 'rhels9.4', arch: 'x86_64', profile: 'compute' })
      expect(await suite.tables.getAttribs('chain', { node })).to.include({ currstate: 'sysclone rhels9.4-x86_64', currchain: 'boot' })
    }
  })

  it('writes the xnba script with the genesis kernel and the sysclone command line', () => {
    const nodes = join(tftpdir, 'xcat', 'xnba', 'nodes')
    const script = [
      '#!gpxe',
      '#sysclone rhels9.4-x86_64',
      'imgfetch -n kernel http://${next-server}/tftpboot/xcat/genesis.kernel.x86_64',
      'imgload kernel',
      `imgargs kernel ${KCMD('42:00:0a:00:00:01')} BOOTIF=01-\${netX/mac:hexhyp}`,
      'imgfetch -n initrd http://${next-server}/tftpboot/xcat/genesis.fs.x86_64.lzma',
      'imgexec kernel',
      '',
    ]
    expect(readFileSync(join(nodes, 'cn1'), 'utf8')).to.equal(script.join('\n'))
    const uefi = script.filter((line) => !line.startsWith('#sysclone'))
    uefi[3] = `${uefi[3]} initrd=initrd`
    expect(readFileSync(join(nodes, 'cn1.uefi'), 'utf8')).to.equal(uefi.join('\n'))
  })

  it('writes the grub2 file with its hex-IP and MAC hard links and the grub2-<node> link', () => {
    const dir = join(tftpdir, 'boot', 'grub2')
    const text = readFileSync(join(dir, 'cn2'), 'utf8')
    expect(text.split('\n')[0]).to.equal('#sysclone rhels9.4-x86_64')
    expect(text).to.contain(`linuxefi /xcat/genesis.kernel.x86_64 ${KCMD('42:00:0a:00:00:02')} BOOTIF=$net_default_mac`)
    const ino = statSync(join(dir, 'cn2')).ino
    expect(statSync(join(dir, 'grub.cfg-0A000002')).ino).to.equal(ino)
    expect(statSync(join(dir, 'grub.cfg-01-42-00-0a-00-00-02')).ino).to.equal(ino)
    expect(readlinkSync(join(dir, 'grub2-cn2'))).to.equal('grub2.x86_64')
  })

  it('writes the pxelinux file and its hex-IP link', () => {
    const dir = join(tftpdir, 'pxelinux.cfg')
    expect(readFileSync(join(dir, 'cn3'), 'utf8')).to.equal(
      `#sysclone rhels9.4-x86_64\nDEFAULT xCAT\nLABEL xCAT\n KERNEL xcat/genesis.kernel.x86_64\n APPEND initrd=xcat/genesis.fs.x86_64.lzma ${KCMD('42:00:0a:00:00:03')}\n  IPAPPEND 2\n`,
    )
    expect(lstatSync(join(dir, '0A000003')).isSymbolicLink()).to.equal(true)
    expect(readlinkSync(join(dir, '0A000003'))).to.equal('cn3')
  })

  it('assigns the nodes in cluster.txt without touching node10', () => {
    const lines = readFileSync(join(installdir, 'sysclone', 'scripts', 'cluster.txt'), 'utf8').split('\n').filter(Boolean)
    expect(lines[0]).to.equal('cn10:compute:older:')
    expect(lines.slice(1).sort()).to.deep.equal(['cn1:compute:img1:', 'cn2:compute:img1:', 'cn3:compute:img1:'])
  })

  it('copies the post-install scripts fresh, the hosts file and xcatdsklspost into the image', () => {
    const post = join(installdir, 'sysclone', 'scripts', 'post-install')
    for (const [target, name] of POST_INSTALL_SCRIPTS) {
      expect(readFileSync(join(post, target), 'utf8')).to.equal(`#!/bin/sh\necho ${name}\n`)
      expect(statSync(join(post, target)).mode & 0o777).to.equal(0o755)
    }
    expect(readFileSync(join(installdir, 'sysclone', 'scripts', 'hosts'), 'utf8')).to.equal('127.0.0.1 localhost\n10.0.0.2 cn2\n')
    expect(existsSync(join(imageDir, 'opt', 'xcat', 'xcatdsklspost'))).to.equal(true)
  })

  it('renders the master script of the image from its layout, with the function library beside it', () => {
    const scripts = join(installdir, 'sysclone', 'scripts')
    expect(statSync(join(scripts, 'img1.master')).mode & 0o777).to.equal(0o755)
    expect(readFileSync(join(scripts, 'img1.master'), 'utf8')).to.match(/^#!\/bin\/sh\n/)
    expect(existsSync(join(scripts, 'xcat-sysclone', 'functions'))).to.equal(true)
  })

  it('fails the nodes of an image that has neither a layout nor a master script', async () => {
    const r = await nodeset('cn3', 'osimage=nolayout')
    expect(r.code).to.equal(1)
    expect(r.stderr).to.contain('cn3: [mn]: Error: The image nolayout has no disk layout')
    expect(readFileSync(join(installdir, 'sysclone', 'scripts', 'cluster.txt'), 'utf8')).not.to.contain('nolayout')
  })

  it('serves the scripts and image modules with an rsync daemon', async () => {
    const modules = await runCommand(['rsync', '--contimeout=10', `rsync://127.0.0.1:${rsyncPort}/`])
    expect(modules.code).to.equal(0)
    const names = modules.stdout.split('\n').map((l) => l.split(/\s+/)[0])
    expect(names).to.include.members(['scripts', 'overrides', 'img1'])
    const listing = await runCommand(['rsync', '--contimeout=10', `rsync://127.0.0.1:${rsyncPort}/scripts/`])
    expect(listing.stdout).to.match(/cluster\.txt/)
    const image = await runCommand(['rsync', '--contimeout=10', `rsync://127.0.0.1:${rsyncPort}/img1/etc/`])
    expect(image.stdout).to.match(/hostname/)
  })

  it('answers nodeset stat from the boot files', async () => {
    const r = await nodeset('cn1,cn2,cn3', 'stat')
    expect(r.stdout.split('\n').filter(Boolean).sort()).to.deep.equal(['cn1: sysclone rhels9.4-x86_64', 'cn2: sysclone rhels9.4-x86_64', 'cn3: sysclone rhels9.4-x86_64'])
  })

  it('moves a node that reports "next" to the install monitor to boot and rewrites its boot file', async () => {
    expect(await monitorExchange(suite.xcatd.iport, 'next')).to.equal('ready\ndone\n')
    for (let i = 0; i < 50 && !readFileSync(join(tftpdir, 'xcat', 'xnba', 'nodes', 'cn1'), 'utf8').includes('#boot'); i++) await new Promise((r) => setTimeout(r, 100))
    expect(readFileSync(join(tftpdir, 'xcat', 'xnba', 'nodes', 'cn1'), 'utf8')).to.equal('#!gpxe\n#boot\nexit\n')
    expect(await suite.tables.getAttribs('chain', { node: 'cn1' })).to.include({ currstate: 'boot', currchain: 'boot' })
    expect((await suite.tables.getAttribs('nodetype', { node: 'cn1' }))?.provmethod).to.equal('img1')
  })

  it('refuses an unknown osimage with xCAT\'s message and writes nothing', async () => {
    const before = readFileSync(join(tftpdir, 'boot', 'grub2', 'cn2'), 'utf8')
    const r = await nodeset('cn2', 'osimage=nosuch')
    expect(r.code).to.equal(1)
    expect(r.stderr).to.contain('Error: [mn]: Cannot find the OS image nosuch in the osimage table.')
    expect(readFileSync(join(tftpdir, 'boot', 'grub2', 'cn2'), 'utf8')).to.equal(before)
  })

  it('refuses an osimage without provmethod', async () => {
    const r = await nodeset('cn2', 'osimage=nomethod')
    expect(r.code).to.equal(1)
    expect(r.stderr).to.contain('Error: [mn]: osimage.provmethod for nomethod must be set.')
  })

  it('fails the nodes of an image whose directory is missing and leaves their files alone', async () => {
    const r = await nodeset('cn3', 'osimage=gone')
    expect(r.code).to.equal(1)
    expect(r.stderr).to.match(/cn3: \[mn\]: Error: The image directory .*gone of osimage gone does not exist/)
    expect(readFileSync(join(tftpdir, 'pxelinux.cfg', 'cn3'), 'utf8')).to.match(/^#sysclone rhels9.4-x86_64\n/)
    expect((await suite.tables.getAttribs('chain', { node: 'cn3' }))?.currstate).to.equal('sysclone rhels9.4-x86_64')
  })

  it('fails a node without MAC or with serialport but no serialspeed, and still does the others', async () => {
    const r = await nodeset('cn4,cn5,cn10', 'osimage=img1')
    expect(r.code).to.equal(1)
    expect(r.stderr).to.contain('cn4: [mn]: Error: No MAC address available for this node')
    expect(r.stderr).to.contain('cn5: [mn]: Error: serialport defined, but no serialspeed for cn5 in nodehm table')
    expect(r.stdout).to.contain('cn10: sysclone rhels9.4-x86_64')
    expect(existsSync(join(tftpdir, 'xcat', 'xnba', 'nodes', 'cn4'))).to.equal(false)
    expect(existsSync(join(tftpdir, 'xcat', 'xnba', 'nodes', 'cn5'))).to.equal(false)
    expect(readFileSync(join(tftpdir, 'xcat', 'xnba', 'nodes', 'cn10'), 'utf8')).to.contain('SCRIPTNAME=img1')
    expect(await suite.tables.getAttribs('chain', { node: 'cn5' })).to.equal(undefined)
  })

  it('names nodes without noderes.netboot, and refuses unknown nodes', async () => {
    const r = await nodeset('cn11', 'osimage=img1')
    expect(r.code).to.equal(1)
    expect(r.stderr).to.contain('cn11: [mn]: Error: Unable to identify plugin for this command, check relevant tables: noderes.netboot')
    const unknown = await nodeset('cn1,nosuchnode', 'boot')
    expect(unknown.code).to.equal(1)
    expect(unknown.stderr).to.contain('Error: Invalid nodes and/or groups in noderange: nosuchnode')
  })

  it('writes no file for a node name with shell metacharacters', async () => {
    const r = await nodeset('weird', 'osimage=img1')
    expect(r.code).to.equal(1)
    expect(r.stderr).to.contain('ev;il$(x): [mn]: Error: Invalid node name')
    expect(readFileSync(join(installdir, 'sysclone', 'scripts', 'cluster.txt'), 'utf8')).not.to.contain('ev;il')
  })

  it('shows the usage for -h and for a missing or doubled state', async () => {
    const help = await nodeset('cn1', '-h')
    expect(help.stdout).to.contain('nodeset <noderange> [shell|boot|runcmd=bmcsetup|osimage[=<imagename>]|offline|shutdown|stat [-a]]')
    const two = await nodeset('cn1', 'boot', 'shell')
    expect(two.code).to.equal(1)
    expect(two.stderr).to.contain("Error: [mn]: Invalid argument: 'boot shell'")
    const bad = await nodeset('cn1', 'dance')
    expect(bad.code).to.equal(1)
    expect(bad.stderr).to.contain('Error: [mn]: Unknown state dance requested')
  })

  it('sets boot, shell and offline as xCAT does', async () => {
    expect((await nodeset('cn2', 'boot')).code).to.equal(0)
    expect(readFileSync(join(tftpdir, 'boot', 'grub2', 'cn2'), 'utf8')).to.equal('#boot\nset timeout=5\n')
    expect(existsSync(join(tftpdir, 'boot', 'grub2', 'grub2-cn2'))).to.equal(false)
    expect((await suite.tables.getAttribs('nodetype', { node: 'cn2' }))?.provmethod).to.equal('img1')
    expect((await nodeset('cn10', 'shell')).code).to.equal(0)
    expect(readFileSync(join(tftpdir, 'xcat', 'xnba', 'nodes', 'cn10'), 'utf8')).to.contain('imgargs kernel quiet xcatd=127.0.0.1:3001 destiny=shell BOOTIF=01-${netX/mac:hexhyp}')
    expect((await nodeset('cn3', 'offline')).code).to.equal(0)
    expect(existsSync(join(tftpdir, 'pxelinux.cfg', 'cn3'))).to.equal(false)
    expect(existsSync(join(tftpdir, 'pxelinux.cfg', '0A000003'))).to.equal(false)
    expect((await suite.tables.getAttribs('chain', { node: 'cn3' }))?.currstate).to.equal('offline')
  })
})
