import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { imagesSettled } from '../../lib/sysclone/image-repository.js'
import type { Layout } from '../../lib/sysclone/layout/model.js'
import { useTestDaemon } from '../helpers/daemon.js'
import { cutMidway, manifest, useMnEnvironment } from './helpers/capture-checks.js'
import { must, runProcess, useTestHosts, type TestHost } from './helpers/test-hosts.js'

/** The files of a golden client that a faithful image must keep exactly, made from the management node. */
async function populateGolden(root: string): Promise<void> {
  const s = join(root, 'srv', 'xst')
  await must('mkdir', ['-p', s, join(root, 'home', 'user1'), join(s, 'data')])
  await must('sh', ['-c', [
    'set -e; cd "$1"',
    'echo hello > hardlink-a && ln hardlink-a hardlink-b',
    'echo acl > acl-file && setfacl -m u:1234:rwx,g:4321:r acl-file',
    'echo attrs > xattr-file && setfattr -n user.xcat -v golden xattr-file',
    'cp "$2/usr/bin/true" cap-binary && setcap cap_net_raw+ep cap-binary',
    'truncate -s 256M sparse.img && printf x | dd of=sparse.img conv=notrunc status=none',
    'mknod char-dev c 1 3 && mknod block-dev b 7 200 && mkfifo fifo',
    'cp "$2/usr/bin/true" setuid-binary && chmod 4755 setuid-binary && mkdir setgid-dir && chmod 2775 setgid-dir',
    'ln -s hardlink-a rel-link && ln -s /etc/hostname abs-link && ln -s /nowhere dangling-link',
    'echo spaces > "name with spaces" && echo newline > "$(printf "new\\nline")"',
    'echo owned > numeric-owner && chown 12345:54321 numeric-owner',
    'for i in $(seq 1 1000); do echo "data file $i" > data/f$i; done',
  ].join('\n'), 'sh', s, root])
  await must('sh', ['-c', 'echo "a file in the golden client\'s /home" > "$1/home/user1/notes.txt" && chown -R 1000:1000 "$1/home/user1"', 'sh', root])
}

describe('imgcapture -t sysclone of a real golden client', function () {
  this.timeout(600_000)
  const hosts = useTestHosts()
  let golden: TestHost
  let installdir: string
  let sysconfdir: string
  let restoreEnvironment: (() => void) | undefined

  before(async () => {
    installdir = mkdtempSync(join(tmpdir(), 'xcat-install-'))
    sysconfdir = mkdtempSync(join(tmpdir(), 'xcat-etc-'))
    golden = await hosts.create({ name: 'golden1', disk: { sizeMiB: 1536, table: 'gpt', esp: true, swapMiB: 64 } })
    await populateGolden(golden.root)
    restoreEnvironment = useMnEnvironment(sysconfdir, golden.mnKey.privateKey)
  })
  after(() => {
    restoreEnvironment?.()
    rmSync(installdir, { recursive: true, force: true })
    rmSync(sysconfdir, { recursive: true, force: true })
  })

  const suite = useTestDaemon({
    seed: async (tables) => {
      await tables.setAttribs('site', { key: 'installdir' }, { value: installdir })
      await tables.setAttribs('nodelist', { node: 'golden1' }, { groups: 'golden,all' })
      await tables.setAttribs('hosts', { node: 'golden1' }, { ip: golden.ip })
    },
  })
  const capture = (...args: string[]) => suite.xcatd.run(suite.creds.rootHome, 'imgcapture', args)
  const imageDir = () => join(installdir, 'sysclone', 'images', 'img1')

  it('captures the golden client through xcatd into /install/sysclone/images/img1', async () => {
    const res = await capture('golden1', '-t', 'sysclone', '-o', 'img1', '--exclude', '/var/log/*')
    expect(res.stderr).to.equal('')
    expect(res.code).to.equal(0)
    expect(res.stdout).to.include('Capturing image on golden1...\n')
    expect(res.stdout).to.match(/Transferred \d+ files \(.+\) from golden1; the image holds \d+ files/)
    expect(res.stdout).to.include('The osimage definition for img1 was created.\n')
  })

  it('holds exactly the golden tree: rsync with checksums sees no difference outside the excludes', async () => {
    // The kernel's file systems are mounted on /proc, /sys and /dev: the image keeps their mount points, empty, and the
    // times of those directories change whenever the machine adds a device.
    for (const mountPoint of ['proc', 'sys', 'dev']) expect(readdirSync(join(imageDir(), mountPoint)), mountPoint).to.deep.equal([])
    const diff = await runProcess('rsync', [
      '-n', '-c', '-i', '-aHAXS', '--numeric-ids', '--delete',
      '--exclude=/proc/', '--exclude=/sys/', '--exclude=/dev/', '--exclude=/run/', '--exclude=/var/log/*', '--exclude=/tmp/*',
      '--exclude=/etc/systemimager/', '--exclude=/etc/machine-id', '--exclude=/etc/ssh/ssh_host_*', '--exclude=/etc/mtab',
      '--exclude=/var/lib/systemd/random-seed', '--exclude=/etc/udev/rules.d/70-persistent-net.rules',
      '-e', golden.rsyncShell(), `${golden.sshTarget}:/`, `${imageDir()}/`,
    ])
    expect(diff.code, diff.stderr).to.equal(0)
    expect(diff.stdout.trim()).to.equal('')
  })

  it('keeps hard links, ACLs, xattrs, file capabilities, sparse files, device nodes, FIFOs, setuid bits and odd names', async () => {
    const s = join(imageDir(), 'srv', 'xst')
    expect(statSync(join(s, 'hardlink-a')).ino).to.equal(statSync(join(s, 'hardlink-b')).ino)
    expect(await must('getfacl', ['-cp', join(s, 'acl-file')])).to.include('user:1234:rwx')
    expect(await must('getfattr', ['--only-values', '-n', 'user.xcat', join(s, 'xattr-file')])).to.equal('golden')
    expect(await must('getcap', [join(s, 'cap-binary')])).to.include('cap_net_raw=ep')
    expect(statSync(join(s, 'sparse.img')).size).to.equal(256 * 1024 * 1024)
    expect(statSync(join(s, 'sparse.img')).blocks * 512).to.be.below(1024 * 1024)
    expect(statSync(join(s, 'char-dev')).isCharacterDevice()).to.equal(true)
    expect(statSync(join(s, 'block-dev')).rdev).to.equal(statSync(join(golden.root, 'srv', 'xst', 'block-dev')).rdev)
    expect(statSync(join(s, 'fifo')).isFIFO()).to.equal(true)
    expect(statSync(join(s, 'setuid-binary')).mode & 0o7777).to.equal(0o4755)
    expect(statSync(join(s, 'setgid-dir')).mode & 0o7777).to.equal(0o2775)
    expect(readFileSync(join(s, 'name with spaces'), 'utf8')).to.equal('spaces\n')
    expect(readFileSync(join(s, 'new\nline'), 'utf8')).to.equal('newline\n')
    expect(statSync(join(s, 'numeric-owner')).uid).to.equal(12345)
    expect(readFileSync(join(imageDir(), 'home', 'user1', 'notes.txt'), 'utf8')).to.match(/golden client's \/home/)
    expect(readFileSync(join(imageDir(), 'boot', 'efi', 'EFI', 'debian', 'grub.cfg'), 'utf8').length).to.be.above(0)
  })

  it('scrubs the golden client\'s identity and writes SystemImager\'s files into the image', async () => {
    const etc = join(imageDir(), 'etc')
    expect(readdirSync(join(etc, 'ssh')).filter((f) => f.startsWith('ssh_host_'))).to.deep.equal([])
    expect(readFileSync(join(etc, 'machine-id'), 'utf8')).to.equal('')
    const si = join(etc, 'systemimager')
    expect(readFileSync(join(si, 'IMAGE_RETRIEVED_FROM'), 'utf8')).to.equal('golden1\n')
    expect(readFileSync(join(si, 'IMAGE_RETRIEVAL_TIME'), 'utf8')).to.match(/^\d{4}\.\d\d\.\d\d \d\d:\d\d\n$/)
    expect(readFileSync(join(si, 'mounted_filesystems'), 'utf8')).to.match(/ on \/ type ext4 /)
    expect(readFileSync(join(si, 'updateclient.local.exclude'), 'utf8')).to.include('/etc/fstab\n')
    expect(readFileSync(join(si, 'autoinstallscript.conf'), 'utf8')).to.match(/\n<config>\n {2}<disk dev="\/dev\/loop\d+" label_type="gpt" unit_of_measurement="MB">/)
  })

  it('records the layout of the golden client\'s loop disk', async () => {
    const layout = JSON.parse(readFileSync(join(imageDir(), 'etc', 'systemimager', 'layout.json'), 'utf8')) as Layout
    const disk = golden.disk
    expect(layout.disks.map((d) => d.dev)).to.deep.equal([disk?.dev])
    const recorded = layout.disks[0]
    expect(recorded?.labelType).to.equal('gpt')
    expect(recorded?.partitions.map((p) => [p.num, p.dev, p.sizeMiB])).to.deep.equal(disk?.partitions.map((p) => [p.number, p.dev, p.sizeMiB]))
    expect(recorded?.partitions.find((p) => p.num === disk?.partition('esp')?.number)?.flags).to.include('esp')
    const root = layout.fstab.find((f) => f.mp === '/')
    expect(root).to.include({ realDev: disk?.partition('root')?.dev, mountDev: `UUID=${disk?.partition('root')?.uuid}`, fs: 'ext4', format: true })
    expect(layout.fstab.find((f) => f.mp === '/boot/efi')).to.include({ fs: 'vfat', format: true, uuid: disk?.partition('esp')?.uuid })
    expect(layout.fstab.some((f) => f.fs === 'swap')).to.equal(true)
  })

  it('defines the osimage as xCAT does', async () => {
    const res = await suite.xcatd.run(suite.creds.rootHome, 'lsdef', ['-t', 'osimage', 'img1'])
    expect(res.stdout).to.include('    provmethod=sysclone\n')
    expect(res.stdout).to.include(`    rootimgdir=${imageDir()}\n`)
    expect(res.stdout).to.include('    osvers=debian12\n')
    expect(res.stdout).to.include('    osarch=x86_64\n')
    expect(res.stdout).to.include('    osdistroname=debian12-x86_64\n')
    expect(res.stdout).to.include('    postscripts=efibootloader,update_network\n')
    expect(res.stdout).to.include('    imagetype=linux\n')
  })

  it('writes the image server\'s SystemImager configuration under the configured directory', () => {
    const rsyncd = readFileSync(join(sysconfdir, 'systemimager', 'rsyncd.conf'), 'utf8')
    expect(rsyncd).to.include(`[img1]\n\tpath=${imageDir()}\n`)
    expect(rsyncd).to.include(`[scripts]\n\tpath = ${join(installdir, 'sysclone', 'scripts')}\n`)
    expect(readFileSync(join(sysconfdir, 'systemimager', 'systemimager.conf'), 'utf8')).to.include(`DEFAULT_IMAGE_DIR = ${join(installdir, 'sysclone', 'images')}\n`)
  })

  it('moves only what changed when the image is captured again', async () => {
    await must('sh', ['-c', 'for i in $(seq 1 10); do echo "changed $i" >> "$1/srv/xst/data/f$i"; done', 'sh', golden.root])
    const res = await capture('golden1', '-t', 'sysclone', '-o', 'img1', '--exclude', '/var/log/*')
    expect(res.code, res.stderr).to.equal(0)
    const transferred = Number(/Transferred (\d+) files/.exec(res.stdout)?.[1])
    expect(transferred).to.equal(10)
    expect(res.stdout).to.include('Using the existing osimage "img1" defined on')
    expect(readFileSync(join(imageDir(), 'srv', 'xst', 'data', 'f3'), 'utf8')).to.equal('data file 3\nchanged 3\n')
    // The replaced tree goes after the command has returned.
    await imagesSettled()
    expect(readdirSync(join(installdir, 'sysclone', 'images'))).to.deep.equal(['img1'])
  })

  describe('while a transfer is under way', () => {
    // 384 MiB of new data at 100 Mbit/s: the transfer takes half a minute, whatever the speed of the machine.
    before(async () => {
      await must('sh', ['-c', 'mkdir -p "$1/srv/xst/big" && for i in $(seq 1 12); do head -c 32M /dev/urandom > "$1/srv/xst/big/b$i"; done', 'sh', golden.root])
      await golden.limitUpload(100)
    })
    after(() => golden.limitUpload(undefined))

    it('leaves the previous image byte for byte as it was when the transfer is cut midway', async () => {
      const before = await manifest(imageDir())
      const running = capture('golden1', '-t', 'sysclone', '-o', 'img1', '--exclude', '/var/log/*')
      await new Promise((r) => setTimeout(r, 2500))
      await cutMidway(golden, 'img1', running)
      expect(await manifest(imageDir())).to.equal(before)
      expect(readdirSync(join(installdir, 'sysclone', 'images')).sort()).to.deep.equal(['img1'])
    })

    it('leaves the previous image as it was when the client is interrupted with Ctrl-C', async () => {
      const before = await manifest(imageDir())
      const abort = new AbortController()
      const running = suite.xcatd.run(suite.creds.rootHome, 'imgcapture', ['golden1', '-t', 'sysclone', '-o', 'img1'], { signal: abort.signal })
      await new Promise((r) => setTimeout(r, 2500))
      abort.abort()
      await running
      await new Promise((r) => setTimeout(r, 1000))
      expect(await manifest(imageDir())).to.equal(before)
      expect(readdirSync(join(installdir, 'sysclone', 'images')).sort()).to.deep.equal(['img1'])
    })

    it('refuses a second capture of the same image while one runs', async () => {
      const first = capture('golden1', '-t', 'sysclone', '-o', 'img1')
      await new Promise((r) => setTimeout(r, 1500))
      const second = await capture('golden1', '-t', 'sysclone', '-o', 'img1')
      expect(second.code).to.equal(1)
      expect(second.stderr).to.match(/^Error: \[mn\]: Another capture of osimage img1 is in progress \(process \d+ on .+\)\.\n$/)
      const done = await first
      expect(done.code, done.stderr).to.equal(0)
      // Progress arrived while the data flowed, as plain lines on a pipe; the time left ran down to nothing at the end.
      const lines = [...done.stdout.matchAll(/^(\d+)% [\d.]+ \w+, (\d+) files, [\d.]+ \w+\/s, (\d+):(\d\d):(\d\d) left$/gm)]
      expect(lines.length, done.stdout).to.be.greaterThan(10)
      const files = lines.map((m) => Number(m[2]))
      expect(files).to.deep.equal([...files].sort((a, b) => a - b))
      expect(files.at(-1)).to.be.at.least(12)
      const left = lines.map((m) => Number(m[3]) * 3600 + Number(m[4]) * 60 + Number(m[5]))
      expect(Math.max(...left)).to.be.greaterThan(0)
      expect(left.at(-1)).to.be.at.most(2)
    })
  })

  it('-t diskless copies the root tree into netboot/<os>/<arch>/<profile>/rootimg and says when genimage is missing', async () => {
    await suite.tables.setAttribs('nodetype', { node: 'golden1' }, { os: 'debian12', arch: 'x86_64', profile: 'compute' })
    const res = await capture('golden1', '-t', 'diskless')
    const rootimg = join(installdir, 'netboot', 'debian12', 'x86_64', 'compute', 'rootimg')
    expect(res.stdout).to.include('Capturing image on golden1...\n')
    expect(res.stdout).to.include(`Extracting the image to ${rootimg}\n`)
    expect(res.code).to.equal(1)
    expect(res.stderr).to.match(/^Error: \[mn\]: Can't run the "genimage" command for debian12: genimage is not installed \(.+\/share\/xcat\/netboot\/debian\/genimage is missing\)\./)
    expect(readFileSync(join(rootimg, 'home', 'user1', 'notes.txt'), 'utf8')).to.match(/golden client's \/home/)
    expect(readFileSync(join(rootimg, 'srv', 'xst', 'name with spaces'), 'utf8')).to.equal('spaces\n')
    expect(readdirSync(join(rootimg, 'proc'))).to.deep.equal([])
    expect(statSync(join(rootimg, 'srv', 'xst', 'setuid-binary')).mode & 0o7777).to.equal(0o4755)
  })

  describe('bad input', () => {
    let snapshot: string
    before(async () => {
      await hosts.create({ name: 'nossh', disk: false, rootfs: 'tmpfs', sshd: false }).then((h) => suite.tables.setAttribs('hosts', { node: 'nossh' }, { ip: h.ip }))
      await hosts.create({ name: 'norsync', rsync: false, disk: { sizeMiB: 1024, table: 'gpt', esp: true } }).then((h) => suite.tables.setAttribs('hosts', { node: 'norsync' }, { ip: h.ip }))
      await hosts.create({ name: 'ramroot', disk: false, rootfs: 'tmpfs' }).then((h) => suite.tables.setAttribs('hosts', { node: 'ramroot' }, { ip: h.ip }))
      await suite.tables.setMany('nodelist', ['nossh', 'norsync', 'ramroot'].map((node) => ({ keys: { node }, values: { groups: 'all' } })))
      snapshot = await manifest(join(installdir, 'sysclone'))
    })
    afterEach(async () => expect(await manifest(join(installdir, 'sysclone'))).to.equal(snapshot))

    const cases: [string, string[], RegExp][] = [
      ['an unknown node', ['nosuch', '-t', 'sysclone', '-o', 'imgx'], /^Error: Invalid nodes and\/or groups in noderange: nosuch\n$/],
      ['a node without ssh', ['nossh', '-t', 'sysclone', '-o', 'imgx'], /^Error: \[mn\]: Unable to reach nossh \(10\.230\.\d+\.2\) with ssh as root: .+\n$/],
      ['a golden client without rsync', ['norsync', '-t', 'sysclone', '-o', 'imgx'], /^Error: \[mn\]: rsync is not installed on norsync; install it there and capture again\.\n$/],
      ['a missing -o', ['golden1', '-t', 'sysclone'], /^Error: \[mn\]: You must specify osimage name if you are using "sysclone"\.\nError: \[mn\]: Usage: imgcapture/],
      ['an image name with /', ['golden1', '-t', 'sysclone', '-o', '../etc'], /^Error: \[mn\]: Invalid osimage name "\.\.\/etc"/],
      ['an image name with ;', ['golden1', '-t', 'sysclone', '-o', 'img;reboot'], /^Error: \[mn\]: Invalid osimage name "img;reboot"/],
      ['a root file system on tmpfs', ['ramroot', '-t', 'sysclone', '-o', 'imgx'], /^Error: \[mn\]: The root file system of ramroot is tmpfs: ramroot might not be a diskful Linux node, please check it\.\n$/],
    ]
    for (const [label, args, message] of cases) {
      it(`${label}: the right message, exit code 1, nothing changed`, async () => {
        const res = await capture(...args)
        expect(res.code).to.equal(1)
        expect(res.stderr).to.match(message)
        expect(existsSync(join(installdir, 'sysclone', 'images', 'imgx'))).to.equal(false)
        expect((await suite.tables.getAttribs('osimage', { imagename: 'imgx' }))).to.equal(undefined)
      })
    }
  })
})
