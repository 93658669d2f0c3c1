import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { settle, startLab, type Lab, type LabTarget } from './helpers/lab.js'
import { bootDisk, vmUnavailable } from './helpers/qemu.js'
import { runProcess } from './helpers/test-hosts.js'

const MTOOLS_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', MTOOLS_SKIP_CHECK: '1' }

/** Runs a local command and fails the test when it fails. */
async function must(cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<string> {
  const res = await runProcess(cmd, args, env ? { env } : {})
  if (res.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${res.stderr}`)
  return res.stdout
}

/** A file of a FAT file system on a device, read with mtools (the kernel here has no vfat). */
async function fatFile(dev: string, path: string): Promise<Buffer> {
  const res = await runProcess('sh', ['-c', 'mcopy -n -i "$1" "::$2" - | base64 -w0', 'sh', dev, path], { env: MTOOLS_ENV })
  if (res.code !== 0) throw new Error(`mcopy ${dev} ${path}: ${res.stderr}`)
  return Buffer.from(res.stdout, 'base64')
}

/** Mounts a file system read-only for a look, then unmounts it. */
async function withMounted<T>(dev: string, look: (dir: string) => T): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'xcat-flow-root-'))
  await must('mount', ['-o', 'ro', dev, dir])
  try {
    return look(dir)
  } finally {
    await must('umount', [dir])
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The bytes of a device at an offset. */
async function readBytes(dev: string, offset: number, length: number): Promise<Buffer> {
  const out = await must('sh', ['-c', 'dd if="$1" bs=512 skip="$2" count="$3" status=none | base64 -w0', 'sh', dev, String(offset / 512), String(Math.ceil(length / 512))])
  return Buffer.from(out, 'base64').subarray(0, length)
}

describe('sysclone from end to end: imgcapture, nodeset through xcatd, two nodes cloned at once, the clones boot', function () {
  this.timeout(1_800_000)
  let lab: Lab
  const installs = new Map<string, Awaited<ReturnType<Lab['install']>>>()
  const byName = (name: string): LabTarget => lab.targets.find((t) => t.host.name === name)!

  before(async function () {
    this.timeout(1_200_000)
    lab = await startLab({
      golden: { sizeMiB: 2048 },
      // target2's disk is larger than the golden client's: its root partition grows.
      targets: [{ name: 'target1', sizeMiB: 2048 }, { name: 'target2', sizeMiB: 3072 }],
      populate: async (root) => {
        await must('sh', ['-c', 'mkdir -p "$1/home/user1" && echo "created in the golden client before capture" >"$1/home/user1/notes.txt" && chown -R 1000:1000 "$1/home/user1"', 'sh', root])
      },
    })
  })
  after(async function () {
    this.timeout(300_000)
    await lab?.close()
  })

  it('captures the golden client with imgcapture through xcatd', async () => {
    const res = await lab.run('imgcapture', ['golden1', '-t', 'sysclone', '-o', 'img1'])
    expect(res.code, res.stderr).to.equal(0)
    expect(res.stdout).to.include('Capturing image on golden1...')
  })

  it('prepares both targets with nodeset osimage=img1', async () => {
    const res = await lab.run('nodeset', ['target1,target2', 'osimage=img1'])
    expect(res.code, res.stderr).to.equal(0)
    expect(res.stdout.split('\n').filter(Boolean).sort()).to.deep.equal(['target1: sysclone debian12-x86_64', 'target2: sysclone debian12-x86_64'])
    for (const t of lab.targets) {
      const cmdline = lab.kernelCommandLine(t)
      expect(cmdline).to.include(`XCAT=${t.host.mnIp}:3001 xcatd=${t.host.mnIp}:3001 SCRIPTNAME=img1`)
      expect(cmdline).to.include(`BOOTIF=01-${t.mac.replaceAll(':', '-')}`)
      expect(await lab.tables.getAttribs('chain', { node: t.host.name })).to.include({ currstate: 'sysclone debian12-x86_64' })
    }
    expect(readFileSync(join(lab.installdir, 'sysclone', 'scripts', 'cluster.txt'), 'utf8')).to.equal('target1:compute:img1:\ntarget2:compute:img1:\n')
  })

  it('clones both targets at once from their xnba command line; each reports next and boots from disk', async () => {
    const results = await Promise.all(lab.targets.map(async (t) => [t.host.name, await lab.install(t)] as const))
    for (const [name, res] of results) {
      installs.set(name, res)
      expect(res.code, `${name}:\n${res.stdout}\n${res.stderr}`).to.equal(0)
      expect(res.stdout).to.include(`sysclone: the image img1 is installed on ${name} (${byName(name).disk})\n`)
      expect(res.variables.split('\n')).to.include.members([`HOSTNAME=${name}`, 'IMAGENAME=img1', `MASTER=${byName(name).host.mnIp}`])
    }
    for (const t of lab.targets) {
      expect(await lab.currstate(t.host.name, 'boot')).to.equal('boot')
      const bootFile = join(lab.tftpdir, 'xcat', 'xnba', 'nodes', t.host.name)
      // nodeset next writes the file after the install monitor answered the node.
      expect(await settle(() => readFileSync(bootFile, 'utf8'), (text) => text === '#!gpxe\n#boot\nexit\n')).to.equal('#!gpxe\n#boot\nexit\n')
    }
  })

  it('gives each clone the golden client\'s partitions and file-system UUIDs, its files, and an identity of its own', async () => {
    const golden = lab.golden.disk!
    const goldenKeys = readFileSync(join(lab.golden.root, 'etc', 'ssh', 'ssh_host_ed25519_key.pub'), 'utf8')
    for (const t of lab.targets) {
      const ids = await must('blkid', ['-p', '-o', 'value', '-s', 'UUID', `${t.disk}p4`])
      expect(ids.trim()).to.equal(golden.partition('swap')!.uuid)
      const rootUuid = (await must('blkid', ['-p', '-o', 'value', '-s', 'UUID', `${t.disk}p3`])).trim()
      expect(rootUuid).to.equal(golden.partition('root')!.uuid)
      await withMounted(`${t.disk}p3`, (clone) => {
        expect(readFileSync(join(clone, 'etc', 'hostname'), 'utf8').trim()).to.equal(t.host.name)
        expect(readFileSync(join(clone, 'home', 'user1', 'notes.txt'), 'utf8')).to.equal('created in the golden client before capture\n')
        const keys = readFileSync(join(clone, 'etc', 'ssh', 'ssh_host_ed25519_key.pub'), 'utf8')
        expect(keys).to.match(/^ssh-ed25519 /)
        expect(keys).to.not.equal(goldenKeys)
        const machineId = readFileSync(join(clone, 'etc', 'machine-id'), 'utf8').trim()
        expect(machineId).to.not.equal(readFileSync(join(lab.golden.root, 'etc', 'machine-id'), 'utf8').trim())
        const grubCfg = readFileSync(join(clone, 'boot', 'grub', 'grub.cfg'), 'utf8')
        expect(grubCfg).to.include(`root=UUID=${rootUuid}`)
        expect(grubCfg).to.not.match(/root=\/dev\/loop/)
        expect(readFileSync(join(clone, 'etc', 'xcat', 'xcatinstallinfo'), 'utf8').trim()).to.equal('sysclone')
      })
      // BIOS: grub's boot image in the MBR, its core image in the BIOS boot partition.
      expect((await readBytes(t.disk, 0, 512)).includes('GRUB')).to.equal(true)
      expect((await readBytes(`${t.disk}p1`, 0, 512)).every((b) => b === 0)).to.equal(false)
      // UEFI: the golden client's grub on the ESP, at the path firmware without a boot entry starts.
      expect((await fatFile(`${t.disk}p2`, '/EFI/BOOT/BOOTX64.EFI')).equals(await fatFile(golden.partition('esp')!.dev, '/EFI/BOOT/BOOTX64.EFI'))).to.equal(true)
    }
  })

  it('boots target1\'s disk under UEFI firmware to a login prompt that names target1', async function () {
    const why = vmUnavailable('uefi')
    if (why !== undefined) throw new Error(`cannot boot a clone here: ${why}`)
    const res = await bootDisk(byName('target1').disk, { firmware: 'uefi', expect: /target1 login:/, timeoutMs: 900_000 })
    expect(res.reached, res.console.slice(-4000)).to.equal(true)
  })

  it('boots target2\'s larger disk under BIOS firmware to a login prompt that names target2', async function () {
    const why = vmUnavailable('bios')
    if (why !== undefined) throw new Error(`cannot boot a clone here: ${why}`)
    const res = await bootDisk(byName('target2').disk, { firmware: 'bios', expect: /target2 login:/, timeoutMs: 900_000 })
    expect(res.reached, res.console.slice(-4000)).to.equal(true)
  })
})
