import { mkdirSync, readdirSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { expect } from 'chai'
import { imagesSettled } from '../../lib/sysclone/image-repository.js'
import { useTestDaemon } from '../helpers/daemon.js'
import { settle } from './helpers/lab.js'
import { cutMidway, manifest, useMnEnvironment } from './helpers/capture-checks.js'
import { createBlankDisk, must, runProcess, useTestHosts, type BlankDisk, type TestHost } from './helpers/test-hosts.js'

/** `btrfs subvolume show` of a path: its fields by name ("UUID", "Parent UUID", ...), or undefined for no subvolume. */
async function subvolume(path: string): Promise<Record<string, string> | undefined> {
  const res = await runProcess('btrfs', ['subvolume', 'show', path])
  if (res.code !== 0) return undefined
  return Object.fromEntries(res.stdout.split('\n').map((l) => /^\s*([A-Za-z ]+):\s*(.*)$/.exec(l)).filter((m) => m !== null).map((m) => [m[1]!.trim(), m[2]!.trim()]))
}

/** Paths of every subvolume of the file system mounted at `mnt`, relative to it. */
async function subvolumes(mnt: string): Promise<string[]> {
  const out = await must('btrfs', ['subvolume', 'list', mnt])
  return out.split('\n').filter((l) => l.trim() !== '').map((l) => l.replace(/^.* path /, '')).sort()
}

/** A few files on the golden client; a-meta sorts before the big files a later test adds, so rsync reaches it first. */
function populate(root: string): Promise<string> {
  return must('sh', ['-c', [
    'set -e; mkdir -p "$1/srv/xst/a-meta" "$1/srv/xst/data"',
    'for i in $(seq 1 100); do echo "data file $i" > "$1/srv/xst/data/f$i"; done',
    'for i in 1 2 3; do echo "meta $i" > "$1/srv/xst/a-meta/m$i"; done',
  ].join('\n'), 'sh', root])
}

describe('imgcapture -t sysclone into an images directory on btrfs', function () {
  this.timeout(600_000)
  const hosts = useTestHosts()
  let golden: TestHost
  /** The btrfs file system the images go to (its loop disk, mount point and the installdir on it), and the MN's config directory. */
  let place: { disk: BlankDisk; mnt: string; installdir: string; sysconfdir: string } | undefined
  let restoreEnvironment: (() => void) | undefined
  const installdir = () => place!.installdir

  before(async () => {
    const disk = await createBlankDisk(2048)
    const mnt = join(dirname(disk.backingFile), 'mnt')
    place = { disk, mnt, installdir: join(mnt, 'install'), sysconfdir: join(mnt, 'etc') }
    await must('mkfs.btrfs', ['-q', '-f', disk.dev])
    mkdirSync(mnt)
    await must('mount', [disk.dev, mnt])
    golden = await hosts.create({ name: 'golden1', disk: { sizeMiB: 1536, table: 'gpt', esp: true } })
    await populate(golden.root)
    restoreEnvironment = useMnEnvironment(place.sysconfdir, golden.mnKey.privateKey)
  })
  after(async () => {
    restoreEnvironment?.()
    await place?.disk.destroy()
  })

  const suite = useTestDaemon({
    seed: async (tables) => {
      await tables.setAttribs('site', { key: 'installdir' }, { value: installdir() })
      await tables.setAttribs('nodelist', { node: 'golden1' }, { groups: 'golden,all' })
      await tables.setAttribs('hosts', { node: 'golden1' }, { ip: golden.ip })
    },
  })
  const capture = () => suite.xcatd.run(suite.creds.rootHome, 'imgcapture', ['golden1', '-t', 'sysclone', '-o', 'img1'])
  const imageDir = () => join(installdir(), 'sysclone', 'images', 'img1')

  it('makes the first capture of an image a subvolume of its own', async () => {
    const res = await capture()
    expect(res.code, res.stderr).to.equal(0)
    const sub = await subvolume(imageDir())
    expect(sub?.['Parent UUID']).to.equal('-')
    expect(await subvolumes(place!.mnt)).to.deep.equal(['install/sysclone/images/img1'])
  })

  it('re-captures into a snapshot of the previous image: only the changed files move, the old subvolume is gone', async () => {
    const first = await subvolume(imageDir())
    await must('sh', ['-c', 'for i in $(seq 1 10); do echo changed >> "$1/srv/xst/data/f$i"; done; chmod 600 "$1/srv/xst/data/f50"', 'sh', golden.root])
    const res = await capture()
    expect(res.code, res.stderr).to.equal(0)
    expect(Number(/Transferred (\d+) files/.exec(res.stdout)?.[1])).to.equal(10)
    const second = await subvolume(imageDir())
    expect(second?.['Parent UUID']).to.equal(first?.UUID)
    expect(statSync(join(imageDir(), 'srv', 'xst', 'data', 'f50')).mode & 0o777).to.equal(0o600)
    await imagesSettled()
    expect(await subvolumes(place!.mnt)).to.deep.equal(['install/sysclone/images/img1'])
    const diff = await runProcess('rsync', [
      '-n', '-c', '-i', '-aHAXS', '--numeric-ids', '--delete', '-e', golden.rsyncShell(), `${golden.sshTarget}:/srv/xst/`, `${imageDir()}/srv/xst/`,
    ])
    expect(diff.code, diff.stderr).to.equal(0)
    expect(diff.stdout.trim()).to.equal('')
  })

  it('leaves the previous image as it was, modes and xattrs included, when a re-capture is cut midway', async () => {
    await must('sh', ['-c', [
      'set -e; mkdir -p "$1/srv/xst/big"',
      'for i in $(seq 1 12); do head -c 32M /dev/urandom > "$1/srv/xst/big/b$i"; done',
      'chmod 640 "$1/srv/xst/a-meta/m1"; setfattr -n user.xcat -v changed "$1/srv/xst/a-meta/m2"; chown 4321:4321 "$1/srv/xst/a-meta/m3"',
    ].join('\n'), 'sh', golden.root])
    const before = await manifest(imageDir())
    await golden.limitUpload(100)
    try {
      const running = capture()
      // The staging snapshot already carries the new mode while the big files are still on their way.
      const staged = join(installdir(), 'sysclone', 'images', '.img1.staging', 'tree', 'srv', 'xst', 'a-meta', 'm1')
      const mode = () => { try { return statSync(staged).mode & 0o777 } catch { return 0 } }
      expect(await settle(mode, (m) => m === 0o640, 20_000)).to.equal(0o640)
      await cutMidway(golden, 'img1', running)
    } finally {
      await golden.limitUpload(undefined)
    }
    expect(await manifest(imageDir())).to.equal(before)
    expect(readdirSync(join(installdir(), 'sysclone', 'images')).sort()).to.deep.equal(['img1'])
    expect(await subvolumes(place!.mnt)).to.deep.equal(['install/sysclone/images/img1'])
  })
})
