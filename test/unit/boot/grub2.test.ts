import { expect } from 'chai'
import { grub2Binary, grub2Protocol, renderGrub2 } from '../../../lib/boot/grub2.js'
import type { BootProbe } from '../../../lib/boot/types.js'
import { expectGolden, fakeProbe, nodeInfo } from './golden.js'

const D = 'boot/grub2'
const site = { tftpdir: '/tftpboot' }
const links = [
  { path: `${D}/grub.cfg-0A000005`, target: `${D}/n1` },
  { path: `${D}/grub.cfg-01-52-54-00-00-00-01`, target: `${D}/n1` },
]

describe('grub2 writer', () => {
  it('writes the tftp config, the binary symlink and the hex-IP and MAC hard links', () => {
    const out = renderGrub2(nodeInfo('sysclone', { netboot: 'grub2', serverIp: '10.0.0.1', server: 'mn1' }), site, fakeProbe)
    expectGolden(out, 'grub2', 'sysclone-tftp', [`${D}/n1`])
    expect(out.symlinks).to.deep.equal([{ path: `${D}/grub2-n1`, target: 'grub2.x86_64' }])
    expect(out.hardlinks).to.deep.equal(links)
    expect(out.dropLinksOf).to.deep.equal([`${D}/n1`])
    expect(out.remove).to.deep.equal([])
  })

  it('ignores httpport for tftp', () => {
    expectGolden(renderGrub2(nodeInfo('sysclone', { netboot: 'grub2-tftp' }), { ...site, httpport: '8080' }, fakeProbe), 'grub2', 'sysclone-tftp', [`${D}/n1`])
  })

  it('loads over http from the tftpdir, with the port only when it is not 80', () => {
    expectGolden(renderGrub2(nodeInfo('sysclone', { netboot: 'grub2-http' }), { ...site, httpport: '80' }, fakeProbe), 'grub2', 'sysclone-http', [`${D}/n1`])
    expectGolden(renderGrub2(nodeInfo('sysclone', { netboot: 'grub2-http' }), site, fakeProbe), 'grub2', 'sysclone-http', [`${D}/n1`])
    expectGolden(renderGrub2(nodeInfo('sysclone', { netboot: 'grub2-http' }), { ...site, httpport: '8080' }, fakeProbe), 'grub2', 'sysclone-http-8080', [`${D}/n1`])
  })

  it('uses linux/initrd and the ppc binary on ppc64le', () => {
    const out = renderGrub2(nodeInfo('sysclone', { arch: 'ppc64le' }), site, fakeProbe)
    expectGolden(out, 'grub2', 'sysclone-ppc64le', [`${D}/n1`])
    expect(out.symlinks).to.deep.equal([{ path: `${D}/grub2-n1`, target: 'grub2.ppc' }])
  })

  it('turns on grub debugging for site.xcatdebugmode 1 and 2 only', () => {
    expectGolden(renderGrub2(nodeInfo('sysclone'), { ...site, debugmode: '1' }, fakeProbe), 'grub2', 'sysclone-debug', [`${D}/n1`])
    expectGolden(renderGrub2(nodeInfo('sysclone'), { ...site, debugmode: '2' }, fakeProbe), 'grub2', 'sysclone-debug', [`${D}/n1`])
    expectGolden(renderGrub2(nodeInfo('sysclone'), { ...site, debugmode: '0' }, fakeProbe), 'grub2', 'sysclone-tftp', [`${D}/n1`])
  })

  it('writes a bare timeout for boot, drops the binary symlink and keeps the links', () => {
    const out = renderGrub2(nodeInfo('boot'), site, fakeProbe)
    expectGolden(out, 'grub2', 'boot', [`${D}/n1`])
    expect(out.remove).to.deep.equal([`${D}/grub2-n1`])
    expect(out.symlinks).to.deep.equal([])
    expect(out.hardlinks).to.deep.equal(links)
  })

  it('boots genesis for shell and runcmd', () => {
    expectGolden(renderGrub2(nodeInfo('shell'), site, fakeProbe), 'grub2', 'shell', [`${D}/n1`])
    expectGolden(renderGrub2(nodeInfo('runcmd-bmcsetup'), site, fakeProbe), 'grub2', 'runcmd-bmcsetup', [`${D}/n1`])
  })

  it('removes the config, the symlink and the links for offline', () => {
    const out = renderGrub2(nodeInfo('offline', { aliasIps: ['10.0.1.5'] }), site, fakeProbe)
    expect(out.files).to.deep.equal([])
    expect(out.hardlinks).to.deep.equal([])
    expect(out.remove).to.deep.equal([`${D}/n1`, `${D}/grub2-n1`, `${D}/grub.cfg-0A000005`, `${D}/grub.cfg-0A000105`, `${D}/grub.cfg-01-52-54-00-00-00-01`])
    expect(out.dropLinksOf).to.deep.equal([`${D}/n1`])
  })

  it('drops the symlink for standby on SLES 15 and later only', () => {
    expect(renderGrub2(nodeInfo('shell', { state: 'standby', os: 'sles15.3' }), site, fakeProbe).remove).to.deep.equal([`${D}/grub2-n1`])
    expect(renderGrub2(nodeInfo('shell', { state: 'standby', os: 'sles12.5' }), site, fakeProbe).symlinks).to.have.length(1)
    expect(renderGrub2(nodeInfo('shell', { state: 'standby' }), site, fakeProbe).symlinks).to.have.length(1)
  })

  it('needs the arch and its grub2 binary to link', () => {
    const { arch: _a, ...noArch } = nodeInfo('sysclone')
    expect(() => renderGrub2(noArch, site, fakeProbe)).to.throw('No archictecture defined in nodetype table for the node.')
    const checked: string[] = []
    const probe: BootProbe = { ...fakeProbe, exists: (p) => (checked.push(p), false) }
    expect(() => renderGrub2(nodeInfo('sysclone'), site, probe)).to.throw('"/tftpboot/boot/grub2/grub2.x86_64" does not exits')
    expect(checked).to.deep.equal(['/tftpboot/boot/grub2/grub2.x86_64'])
    expect(renderGrub2(nodeInfo('boot'), site, probe).files).to.have.length(1)
  })

  it('rejects other protocols and a missing server', () => {
    expect(() => renderGrub2(nodeInfo('sysclone', { netboot: 'grub2-nfs' }), site, fakeProbe)).to.throw('Invalid netboot method, please check noderes.netboot for n1')
    const { server: _s, facingIp: _f, ...noServer } = nodeInfo('sysclone')
    expect(() => renderGrub2(noServer, site, fakeProbe)).to.throw('Unable to determine the tftpserver for n1')
    expect(renderGrub2({ ...noServer, facingIp: '10.0.0.1' }, site, fakeProbe).files[0]!.content).to.include('set root=tftp,10.0.0.1\n')
  })

  it('names the protocol and binary as xCAT does', () => {
    expect(grub2Protocol(undefined)).to.equal('tftp')
    expect(grub2Protocol('grub2')).to.equal('tftp')
    expect(grub2Protocol('grub2-http')).to.equal('http')
    expect(grub2Binary('ppc64')).to.equal('grub2.ppc')
    expect(grub2Binary('ppc64le')).to.equal('grub2.ppc')
    expect(grub2Binary('aarch64')).to.equal('grub2.aarch64')
  })
})
