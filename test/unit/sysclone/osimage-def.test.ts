import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { getObjectDefs } from '../../../lib/objects/objects.js'
import { defineSyscloneImage } from '../../../lib/sysclone/osimage-def.js'
import { SqliteDriver } from '../../../lib/table/sqlite/sqlite-driver.js'
import { Tables } from '../../../lib/table/tables.js'

describe('the osimage definition of a captured image', () => {
  let dir: string
  let tables: Tables
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'osimg-'))
    tables = new Tables(new SqliteDriver(dir))
  })
  afterEach(async () => {
    await tables.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const facts = { node: 'golden1', osvers: 'rhels9.4', arch: 'x86_64', rootimgdir: '/install/sysclone/images/img1' }

  it('creates a new sysclone definition from what the golden client runs', async () => {
    expect(await defineSyscloneImage(tables, 'img1', facts)).to.equal('created')
    expect((await getObjectDefs(tables, 'osimage', ['img1'])).get('img1')).to.deep.equal({
      imagetype: 'linux', provmethod: 'sysclone', osdistroname: 'rhels9.4-x86_64', profile: 'compute', osname: 'Linux', osvers: 'rhels9.4', osarch: 'x86_64', postscripts: 'efibootloader,update_network', rootimgdir: '/install/sysclone/images/img1',
    })
  })

  it('keeps an existing definition untouched', async () => {
    await tables.setAttribs('osimage', { imagename: 'img1' }, { provmethod: 'sysclone', osvers: 'sles15.5' })
    expect(await defineSyscloneImage(tables, 'img1', facts)).to.equal('kept')
    expect((await tables.getAttribs('osimage', { imagename: 'img1' }))?.osvers).to.equal('sles15.5')
  })

  it('copies the golden node\'s current osimage as a sysclone image without template and package lists', async () => {
    await tables.setAttribs('nodetype', { node: 'golden1' }, { provmethod: 'rhels9.4-x86_64-install-compute' })
    await tables.setAttribs('osimage', { imagename: 'rhels9.4-x86_64-install-compute' }, { imagetype: 'linux', provmethod: 'install', osvers: 'rhels9.4', osarch: 'x86_64', profile: 'compute', osname: 'Linux' })
    await tables.setAttribs('linuximage', { imagename: 'rhels9.4-x86_64-install-compute' }, { template: '/opt/xcat/share/xcat/install/rh/compute.tmpl', pkglist: '/x.pkglist', otherpkglist: '/y', kernelver: '5.14' })
    expect(await defineSyscloneImage(tables, 'img1', facts)).to.equal('copied')
    const def = (await getObjectDefs(tables, 'osimage', ['img1'])).get('img1')
    expect(def).to.include({ provmethod: 'sysclone', osvers: 'rhels9.4', profile: 'compute', kernelver: '5.14', rootimgdir: '/install/sysclone/images/img1' })
    expect(def).to.not.have.any.keys('template', 'pkglist', 'otherpkglist')
  })
})
