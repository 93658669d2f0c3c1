import { expect } from 'chai'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fsBootProbe } from '../../../lib/boot/probe.js'
import type { BootProbe, SiteBootSettings } from '../../../lib/boot/types.js'
import { renderXnba } from '../../../lib/boot/xnba.js'
import { expectGolden, fakeProbe, GENESIS_X86, nodeInfo, SYSCLONE_KCMDLINE, writeKernel } from './golden.js'

const D = 'xcat/xnba/nodes'

describe('xnba writer', () => {
  let stubDir: string
  let plainDir: string
  let stub: { site: SiteBootSettings; probe: BootProbe }
  let plain: { site: SiteBootSettings; probe: BootProbe }

  before(() => {
    stubDir = mkdtempSync(join(tmpdir(), 'xnba-stub-'))
    plainDir = mkdtempSync(join(tmpdir(), 'xnba-plain-'))
    writeKernel(stubDir, GENESIS_X86.kernel, true)
    writeKernel(plainDir, GENESIS_X86.kernel, false)
    stub = { site: { tftpdir: stubDir }, probe: fsBootProbe() }
    plain = { site: { tftpdir: plainDir }, probe: fsBootProbe() }
  })

  after(() => {
    rmSync(stubDir, { recursive: true, force: true })
    rmSync(plainDir, { recursive: true, force: true })
  })

  it('boots an EFI-stub kernel directly from the .uefi script', () => {
    const out = renderXnba(nodeInfo('sysclone'), stub.site, stub.probe)
    expectGolden(out, 'xnba', 'sysclone-efistub', [`${D}/n1`, `${D}/n1.uefi`])
    expect(out.remove).to.deep.equal([`${D}/n1.pxelinux`, `${D}/n1.elilo`])
    expect(out.symlinks).to.deep.equal([])
    expect(out.hardlinks).to.deep.equal([])
  })

  it('chains elilo for a kernel without an EFI stub', () => {
    const out = renderXnba(nodeInfo('sysclone'), plain.site, plain.probe)
    expectGolden(out, 'xnba', 'sysclone-elilo', [`${D}/n1`, `${D}/n1.uefi`, `${D}/n1.elilo`])
    expect(out.remove).to.deep.equal([`${D}/n1.pxelinux`])
  })

  it('adds a non-default httpport to the HTTP URLs but not to the elilo paths', () => {
    const out = renderXnba(nodeInfo('sysclone'), { ...plain.site, httpport: '8080' }, plain.probe)
    expectGolden(out, 'xnba', 'sysclone-port8080', [`${D}/n1`, `${D}/n1.uefi`, `${D}/n1.elilo`])
    expect(renderXnba(nodeInfo('sysclone'), { ...stub.site, httpport: '80' }, stub.probe).files[0]!.content).to.include('http://${next-server}/tftpboot/')
  })

  it('writes exit scripts for boot', () => {
    const out = renderXnba(nodeInfo('boot'), stub.site, stub.probe)
    expectGolden(out, 'xnba', 'boot', [`${D}/n1`, `${D}/n1.uefi`])
    expect(out.remove).to.deep.equal([`${D}/n1.pxelinux`, `${D}/n1.elilo`])
  })

  it('boots genesis for shell and runcmd', () => {
    expectGolden(renderXnba(nodeInfo('shell'), stub.site, stub.probe), 'xnba', 'shell', [`${D}/n1`, `${D}/n1.uefi`])
    expectGolden(renderXnba(nodeInfo('runcmd-bmcsetup'), stub.site, stub.probe), 'xnba', 'runcmd-bmcsetup', [`${D}/n1`, `${D}/n1.uefi`])
  })

  it('writes LOCALBOOT for a state without a kernel', () => {
    const out = renderXnba(nodeInfo('boot', { state: 'shutdown' }), stub.site, stub.probe)
    expectGolden(out, 'xnba', 'shutdown', [`${D}/n1`, `${D}/n1.uefi`])
  })

  it('removes every file for offline', () => {
    const out = renderXnba(nodeInfo('offline'), stub.site, stub.probe)
    expect(out.files).to.deep.equal([])
    expect(out.remove).to.deep.equal([`${D}/n1`, `${D}/n1.pxelinux`, `${D}/n1.uefi`, `${D}/n1.elilo`])
  })

  it('keeps SLES 11 kernels on elilo even with an EFI stub', () => {
    const probe: BootProbe = { ...fakeProbe, kernelHasEfiStub: () => true }
    const params = { kernel: 'xcat/osimage/sles11.4-x86_64/vmlinuz', initrd: 'xcat/osimage/sles11.4-x86_64/initrd', kcmdline: 'quiet' }
    const out = renderXnba(nodeInfo('shell', { params }), { tftpdir: '/tftpboot' }, probe)
    expect(out.files.map((f) => f.path)).to.deep.equal([`${D}/n1`, `${D}/n1.uefi`, `${D}/n1.elilo`])
  })

  it('writes no .uefi without both kcmdline and initrd', () => {
    const out = renderXnba(nodeInfo('shell', { params: { kernel: GENESIS_X86.kernel } }), stub.site, stub.probe)
    expect(out.files.map((f) => f.path)).to.deep.equal([`${D}/n1`])
    expect(out.files[0]!.content).to.equal('#!gpxe\n#shell\nimgfetch -n kernel http://${next-server}/tftpboot/xcat/genesis.kernel.x86_64\nimgload kernel\nimgargs kernel BOOTIF=${netX/mac}\nimgexec kernel\n')
    expect(out.remove).to.deep.equal([`${D}/n1.pxelinux`, `${D}/n1.uefi`, `${D}/n1.elilo`])
  })

  it('puts the next server for !myipfn! and %N into the elilo append', () => {
    const params = { ...GENESIS_X86, kcmdline: `${SYSCLONE_KCMDLINE} imgsrv=!myipfn!` }
    const out = renderXnba(nodeInfo('sysclone', { params }), plain.site, plain.probe)
    expect(out.files[0]!.content).to.include('imgsrv=${next-server} BOOTIF=01-')
    expect(out.files[2]!.content).to.include('imgsrv=%N BOOTIF=%B"')
  })

  it('refuses kernels that need pxelinux chaining', () => {
    expect(() => renderXnba(nodeInfo('shell', { params: { kernel: 'xcat/memdisk' } }), stub.site, stub.probe)).to.throw(/pxelinux/)
  })
})
