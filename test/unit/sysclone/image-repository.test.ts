import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { ImageBusyError, lockImage } from '../../../lib/sysclone/image-repository.js'

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
    await lock.release()
    expect(readFileSync(join(image, 'new'), 'utf8')).to.equal('new')
    expect(existsSync(join(image, 'old'))).to.equal(false)
    expect(existsSync(join(dir, '.img1.previous'))).to.equal(false)
    expect(existsSync(join(dir, '.img1.lock'))).to.equal(false)
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
})
