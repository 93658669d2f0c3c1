import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { configureImageServer } from '../../../lib/sysclone/image-server.js'
import type { SyscloneDirs } from '../../../lib/sysclone/paths.js'

describe('image server configuration', () => {
  let root: string
  let dirs: SyscloneDirs
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'si-server-'))
    const home = join(root, 'install', 'sysclone')
    dirs = { home, images: join(home, 'images'), scripts: join(home, 'scripts'), overrides: join(home, 'overrides'), systemimager: join(root, 'etc', 'systemimager') }
  })
  afterEach(() => rmSync(root, { recursive: true, force: true }))

  it('writes systemimager.conf, the stubs and rsyncd.conf with the scripts, overrides and image modules', async () => {
    await configureImageServer(dirs, 'img1', join(dirs.images, 'img1'))
    await configureImageServer(dirs, 'img2', join(dirs.images, 'img2'))
    const conf = readFileSync(join(dirs.systemimager, 'systemimager.conf'), 'utf8')
    expect(conf).to.include(`DEFAULT_IMAGE_DIR = ${dirs.images}\n`)
    expect(conf).to.include(`DEFAULT_OVERRIDE_DIR = ${dirs.overrides}\n`)
    expect(conf).to.include(`AUTOINSTALL_SCRIPT_DIR = ${dirs.scripts}\n`)
    expect(readFileSync(join(dirs.systemimager, 'rsync_stubs', '40img1'), 'utf8')).to.equal(`[img1]\n\tpath=${dirs.images}/img1\n\n`)
    const rsyncd = readFileSync(join(dirs.systemimager, 'rsyncd.conf'), 'utf8')
    expect(rsyncd).to.match(/^# rsync daemon settings/)
    expect(rsyncd).to.include(`[scripts]\n\tpath = ${dirs.scripts}\n`)
    expect(rsyncd).to.include(`[overrides]\n\tpath = ${dirs.overrides}\n`)
    expect(rsyncd.indexOf('[img1]')).to.be.above(rsyncd.indexOf('[overrides]'))
    expect(rsyncd.indexOf('[img2]')).to.be.above(rsyncd.indexOf('[img1]'))
  })

  it('keeps an administrator\'s settings and SystemImager\'s own files, moving their paths under /install/sysclone', async () => {
    mkdirSync(join(dirs.systemimager, 'rsync_stubs'), { recursive: true })
    writeFileSync(join(dirs.systemimager, 'systemimager.conf'), 'TFTP_DIR = /tftpboot\nDEFAULT_IMAGE_DIR = /var/lib/systemimager/images\n')
    writeFileSync(join(dirs.systemimager, 'rsync_stubs', '10header'), 'log file = /var/log/x\n[scripts]\n\tpath = /var/lib/systemimager/scripts\n\n')
    writeFileSync(join(dirs.systemimager, 'rsync_stubs', '99local'), '# local additions\n')
    writeFileSync(join(dirs.systemimager, 'rsync_stubs', '50old.bak'), '[stale]\n')
    writeFileSync(join(dirs.systemimager, 'rsync_stubs', 'README'), 'not a stub\n')
    await configureImageServer(dirs, 'img1', join(dirs.images, 'img1'))
    const conf = readFileSync(join(dirs.systemimager, 'systemimager.conf'), 'utf8')
    expect(conf).to.match(/^TFTP_DIR = \/tftpboot\nDEFAULT_IMAGE_DIR = /)
    const rsyncd = readFileSync(join(dirs.systemimager, 'rsyncd.conf'), 'utf8')
    expect(rsyncd).to.equal(`log file = /var/log/x\n[scripts]\n\tpath = ${dirs.home}/scripts\n\n[img1]\n\tpath=${dirs.images}/img1\n\n# local additions\n`)
  })
})
