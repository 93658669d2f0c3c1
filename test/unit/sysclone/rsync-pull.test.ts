import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { parseProgress, parseStats, pullArguments, RsyncError, rsyncPull, transferProgress, type TransferProgress } from '../../../lib/sysclone/rsync-pull.js'

describe('rsync pull', () => {
  it('reads --info=progress2 lines', () => {
    expect(parseProgress('    123,456,789  45%   12.50MB/s    0:01:02 (xfr#1234, ir-chk=100/5000)')).to.deep.equal({ bytes: 123456789, percent: 45, rate: 12.5 * 1024 * 1024, done: { files: 1234, unchecked: 100, listed: 5000 } })
    expect(parseProgress('      5,000  50%    1.00MB/s    0:00:05')).to.deep.equal({ bytes: 5000, percent: 50, rate: 1024 * 1024 })
    expect(parseProgress('receiving incremental file list')).to.equal(undefined)
  })

  it('works out how far the transfer is and the time left, by bytes or by files checked, whichever is further', () => {
    const line = { bytes: 1000, percent: 40, rate: 1 }
    // A first capture: 40% of the bytes, 30% of the files checked, 20 s taken.
    expect(transferProgress(line, { files: 10, unchecked: 70, listed: 100 }, 20)).to.deep.equal({ bytes: 1000, percent: 40, rate: 1, etaSeconds: 30, files: 10 })
    // A re-capture: 1% of the bytes need a transfer, 75% of the files are checked after 3 s.
    expect(transferProgress({ ...line, percent: 1 }, { files: 5, unchecked: 25, listed: 100 }, 3)).to.include({ percent: 75, etaSeconds: 1, files: 5 })
    expect(transferProgress({ ...line, percent: 0 }, undefined, 5)).to.include({ percent: 0, etaSeconds: 0, files: 0 })
    expect(transferProgress({ ...line, percent: 2 }, { files: 7, unchecked: 0, listed: 100 }, 9)).to.include({ percent: 100, etaSeconds: 0 })
  })

  it('reads the --stats block', () => {
    const text = ['Number of files: 1,234 (reg: 1,000, dir: 200, link: 34)', 'Number of created files: 10', 'Number of regular files transferred: 12', 'Total file size: 2,000,000 bytes', 'Total transferred file size: 34,567 bytes', 'Total bytes received: 40,000'].join('\n')
    expect(parseStats(text)).to.deep.equal({ filesTotal: 1234, filesTransferred: 12, bytesTotal: 2000000, bytesTransferred: 34567, bytesReceived: 40000 })
  })

  it('runs rsync -aHAXS --numeric-ids --delete --delete-excluded over ssh with the earlier image as link-dest', () => {
    const args = pullArguments({ host: '10.0.0.5', identity: '/root/.ssh/id_ed25519', source: '/', destination: '/install/sysclone/images/.img.staging', excludeFile: '/tmp/x/exclude', linkDest: '/install/sysclone/images/img', xattrs: true })
    expect(args.slice(0, 8)).to.deep.equal(['rsync', '-aHAXS', '--numeric-ids', '--delete', '--delete-excluded', '--exclude-from=/tmp/x/exclude', '--link-dest=/install/sysclone/images/img', '--info=progress2'])
    expect(args.at(-2)).to.equal('root@10.0.0.5:/')
    expect(args.at(-1)).to.equal('/install/sysclone/images/.img.staging/')
    expect(args[args.indexOf('-e') + 1]).to.match(/^ssh -i \/root\/\.ssh\/id_ed25519 -o BatchMode=yes /)
    expect(args).not.to.include('--insecure-links')
  })

  it('tells rsync to skip its walk of the paths only when they are trusted', () => {
    const options = { host: 'golden1', identity: undefined, source: '/', destination: '/install/sysclone/images/.img.staging/tree', excludeFile: '/tmp/x/exclude', linkDest: '/install/sysclone/images/img', xattrs: true }
    const args = pullArguments({ ...options, trustedPaths: true })
    expect(args.indexOf('--insecure-links')).to.equal(args.indexOf('--link-dest=/install/sysclone/images/img') + 1)
  })

  describe('with an rsync that prints what the real one prints', () => {
    let bin: string
    let saved: string | undefined
    beforeEach(() => {
      bin = mkdtempSync(join(tmpdir(), 'xcat-fake-rsync-'))
      saved = process.env.PATH
      process.env.PATH = `${bin}:${saved ?? ''}`
    })
    afterEach(() => {
      process.env.PATH = saved
      rmSync(bin, { recursive: true, force: true })
    })
    const fakeRsync = (lines: string[]) => {
      writeFileSync(join(bin, 'rsync'), ['#!/bin/sh', ...lines, ''].join('\n'))
      chmodSync(join(bin, 'rsync'), 0o755)
    }
    const pull = (onProgress: (p: TransferProgress) => void) =>
      rsyncPull({ host: '10.0.0.5', identity: undefined, source: '/', destination: join(bin, 'img'), excludeFile: join(bin, 'exclude'), xattrs: false, onProgress })
    /** A pull, with every progress report it made. */
    const pullSeen = async () => {
      const seen: TransferProgress[] = []
      const stats = await pull((p) => void seen.push(p))
      return { seen, stats }
    }

    it('keeps the count of files done on the progress lines rsync prints between two finished files', async () => {
      fakeRsync([
        "printf '      1,000  10%%    1.00MB/s    0:00:09 (xfr#3, ir-chk=1/10)\\r'",
        'sleep 0.4',
        "printf '      5,000  50%%    1.00MB/s    0:00:05\\r'",
        'sleep 0.4',
        "printf '     10,000 100%%    1.00MB/s    0:00:00 (xfr#4, to-chk=0/10)\\n'",
        "printf 'Number of files: 10\\nNumber of regular files transferred: 4\\nTotal file size: 10,000 bytes\\n'",
      ])
      const { seen, stats } = await pullSeen()
      expect(seen.map((p) => [p.bytes, p.files])).to.deep.equal([[1000, 3], [5000, 3], [10000, 4]])
      expect(stats).to.include({ filesTotal: 10, filesTransferred: 4, bytesTotal: 10000 })
    })

    it('counts the time left from the time the transfer has taken, not from rsync\'s time column', async () => {
      fakeRsync([
        'sleep 1',
        "printf '      1,000   1%%    1.00MB/s    0:00:01 (xfr#1, to-chk=75/100)\\r'",
        'sleep 0.4',
        "printf '      2,000   2%%    1.00MB/s    0:00:09 (xfr#2, to-chk=0/100)\\n'",
      ])
      const { seen } = await pullSeen()
      expect(seen[0]).to.include({ percent: 25, files: 1 })
      expect(seen[0]?.etaSeconds).to.be.within(3, 8)
      expect(seen.at(-1)).to.include({ bytes: 2000, percent: 100, etaSeconds: 0, files: 2 })
    })

    it('reads the lines of many files at once and reports only the newest', async () => {
      fakeRsync([
        "i=1; while [ $i -le 5000 ]; do printf '%12d  50%%    1.00MB/s    0:00:05 (xfr#%d, ir-chk=1/9000)\\r' $i $i; i=$((i+1)); done",
        "printf '%12d  50%%    1.00MB/s    0:00:05\\r' 5001",
        "printf 'Number of files: 9,000\\nNumber of regular files transferred: 5,000\\n'",
      ])
      const { seen, stats } = await pullSeen()
      expect(seen.length).to.be.within(1, 100)
      expect(seen.at(-1)).to.include({ bytes: 5001, files: 5000 })
      expect(stats).to.include({ filesTotal: 9000, filesTransferred: 5000 })
    })

    it('takes the count of files done only from whole lines, when a read cuts one in two', async () => {
      fakeRsync([
        "printf '      1,000  10%%    1.00MB/s    0:00:09 (xfr#12'",
        'sleep 0.4',
        "printf '34, ir-chk=1/9000)\\r      5,000  50%%    1.00MB/s    0:00:05\\r'",
        "printf 'Number of files: 9,000\\n'",
      ])
      const { seen } = await pullSeen()
      expect(seen.at(-1)).to.include({ bytes: 5000, files: 1234 })
    })

    it('never keeps rsync waiting on its output while the reader is busy', async () => {
      const done = join(bin, 'done')
      fakeRsync([
        `touch '${join(bin, 'started')}'`,
        "awk 'BEGIN { for (i = 1; i <= 30000; i++) printf \"%12d  50%%    1.00MB/s    0:00:05 (xfr#%d, ir-chk=1/90000)\\r\", i, i }'",
        `touch '${done}'`,
        "printf 'Number of files: 90,000\\n'",
      ])
      const seen: TransferProgress[] = []
      const pulled = pull((p) => void seen.push(p))
      while (!existsSync(join(bin, 'started'))) await new Promise((resolve) => setTimeout(resolve, 10))
      // Nothing reads while this loop holds the event loop: 2 MB of progress must still get written.
      const until = Date.now() + 5000
      while (!existsSync(done) && Date.now() < until);
      expect(existsSync(done), 'rsync finished writing while the reader was busy').to.equal(true)
      const stats = await pulled
      expect(seen.at(-1)).to.include({ files: 30000 })
      expect(stats).to.include({ filesTotal: 90000 })
    })

    it('says how rsync failed, from its last words', async () => {
      fakeRsync(["echo 'rsync: connection unexpectedly closed' >&2", 'exit 12'])
      let err: unknown
      try {
        await pull(() => undefined)
      } catch (e) {
        err = e
      }
      expect(err).to.be.instanceOf(RsyncError)
      expect((err as Error).message).to.equal('rsync exited with status 12: rsync: connection unexpectedly closed')
    })
  })

})
