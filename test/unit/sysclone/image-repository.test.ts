import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { expect } from 'chai'
import { ImageBusyError, imagesSettled, lockImage } from '../../../lib/sysclone/image-repository.js'
import type { TreeStore } from '../../../lib/sysclone/subvolume.js'

describe('image repository', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'images-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('publishes a staging tree in place of the image and removes the old tree', async () => {
    const image = join(dir, 'img1')
    mkdirSync(image)
    writeFileSync(join(image, 'old'), 'old')
    const lock = await lockImage(image, 'img1')
    expect(lock.previous).to.equal(true)
    writeFileSync(join(lock.staging, 'new'), 'new')
    await lock.publish()
    expect(readFileSync(join(image, 'new'), 'utf8')).to.equal('new')
    expect(existsSync(join(image, 'old'))).to.equal(false)
    await imagesSettled()
    expect(readdirSync(dir)).to.deep.equal(['img1'])
  })

  it('builds the staging tree inside a directory only root can enter', async () => {
    const lock = await lockImage(join(dir, 'img1'), 'img1')
    expect(dirname(lock.staging)).to.equal(join(dir, '.img1.staging'))
    expect(statSync(dirname(lock.staging)).mode & 0o777).to.equal(0o700)
    await lock.abandon()
    expect(readdirSync(dir)).to.deep.equal([])
  })

  it('lets the next capture of the image wait for the replaced tree to be removed instead of refusing it', async () => {
    const image = join(dir, 'img1')
    mkdirSync(image)
    for (let i = 0; i < 2000; i++) writeFileSync(join(image, `f${i}`), 'old')
    const lock = await lockImage(image, 'img1')
    await lock.publish()
    const again = await lockImage(image, 'img1')
    expect(existsSync(join(dir, '.img1.previous'))).to.equal(false)
    expect(again.previous).to.equal(true)
    await again.abandon()
  })

  it('clears a staging tree that an older layout left at the staging path', async () => {
    const image = join(dir, 'img1')
    mkdirSync(join(dir, '.img1.staging', 'etc'), { recursive: true })
    const lock = await lockImage(image, 'img1')
    expect(readdirSync(join(dir, '.img1.staging'))).to.deep.equal(['tree'])
    expect(readdirSync(lock.staging)).to.deep.equal([])
    await lock.abandon()
  })

  it('leaves the image as it was when the capture is abandoned', async () => {
    const image = join(dir, 'img1')
    mkdirSync(image)
    writeFileSync(join(image, 'old'), 'old')
    const lock = await lockImage(image, 'img1')
    writeFileSync(join(lock.staging, 'partial'), 'x')
    await lock.abandon()
    expect(readFileSync(join(image, 'old'), 'utf8')).to.equal('old')
    expect(existsSync(lock.staging)).to.equal(false)
  })

  it('refuses a second capture of the same image while the first runs, and takes over a dead one\'s lock', async () => {
    const image = join(dir, 'img1')
    const lock = await lockImage(image, 'img1')
    let err: unknown
    try {
      await lockImage(image, 'img1')
    } catch (e) {
      err = e
    }
    expect(err).to.be.instanceOf(ImageBusyError)
    expect((err as Error).message).to.match(/^Another capture of osimage img1 is in progress \(process \d+ on /)
    await lock.abandon()
    writeFileSync(join(dir, '.img1.lock'), `999999 ${(await import('node:os')).hostname()} earlier\n`)
    const again = await lockImage(image, 'img1')
    await again.abandon()
  })

  it('puts back an image that an interrupted publish left aside', async () => {
    const image = join(dir, 'img1')
    mkdirSync(join(dir, '.img1.previous'))
    writeFileSync(join(dir, '.img1.previous', 'kept'), 'k')
    const lock = await lockImage(image, 'img1')
    expect(readFileSync(join(image, 'kept'), 'utf8')).to.equal('k')
    await lock.abandon()
  })

  describe('where images can be subvolumes', () => {
    /** A store that records what it is asked and makes plain directories for subvolumes and snapshots. */
    function recordingStore(subvolumes: Set<string>, calls: string[], failSnapshot = false): TreeStore {
      return {
        isSubvolume: async (path) => subvolumes.has(path),
        canSnapshot: async () => true,
        createSubvolume: async (path) => {
          calls.push(`create ${path}`)
          mkdirSync(path)
          subvolumes.add(path)
        },
        snapshot: async (source, target) => {
          calls.push(`snapshot ${source} ${target}`)
          if (failSnapshot) throw new Error('btrfs subvolume snapshot: no space left on device')
          mkdirSync(target)
          subvolumes.add(target)
        },
        remove: async (path) => {
          if (existsSync(path)) calls.push(`remove ${path}`)
          subvolumes.delete(path)
          rmSync(path, { recursive: true, force: true })
        },
      }
    }

    it('starts a first capture in a new subvolume, and a re-capture in a snapshot of the image, which it removes once replaced', async () => {
      const image = join(dir, 'img1')
      const subvolumes = new Set<string>()
      const calls: string[] = []
      const store = recordingStore(subvolumes, calls)
      const first = await lockImage(image, 'img1', store)
      expect(first.snapshot).to.equal(false)
      expect(calls).to.deep.equal([`create ${first.staging}`])
      await first.publish()
      await imagesSettled()
      subvolumes.add(image)
      calls.length = 0
      const again = await lockImage(image, 'img1', store)
      expect(again.previous).to.equal(true)
      expect(again.snapshot).to.equal(true)
      expect(calls).to.deep.equal([`snapshot ${image} ${again.staging}`])
      await again.publish()
      await imagesSettled()
      expect(calls.slice(1)).to.deep.equal([`remove ${join(dir, '.img1.staging')}`, `remove ${join(dir, '.img1.previous')}`])
    })

    it('takes the lock back when the snapshot cannot be made', async () => {
      const image = join(dir, 'img1')
      mkdirSync(image)
      const store = recordingStore(new Set([image]), [], true)
      let err: unknown
      try {
        await lockImage(image, 'img1', store)
      } catch (e) {
        err = e
      }
      expect((err as Error).message).to.match(/no space left on device/)
      expect(existsSync(join(dir, '.img1.lock'))).to.equal(false)
      expect(existsSync(join(dir, '.img1.staging'))).to.equal(false)
      expect(existsSync(image)).to.equal(true)
    })
  })
})
