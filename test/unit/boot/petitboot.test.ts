import { expect } from 'chai'
import { renderPetitboot } from '../../../lib/boot/petitboot.js'
import { expectGolden, fakeProbe, GENESIS_PPC, nodeInfo } from './golden.js'

const site = { tftpdir: '/tftpboot' }
const ppc = { arch: 'ppc64le' }

describe('petitboot writer', () => {
  it('rewrites kernel and initrd to HTTP URLs and hard links the hex IP', () => {
    const out = renderPetitboot(nodeInfo('sysclone', ppc), site, fakeProbe)
    expectGolden(out, 'petitboot', 'sysclone', ['petitboot/n1'])
    expect(out.hardlinks).to.deep.equal([{ path: '0A000005', target: 'petitboot/n1' }])
    expect(out.symlinks).to.deep.equal([])
    expect(out.remove).to.deep.equal([])
  })

  it('takes site.httpmethod and site.httpport', () => {
    const out = renderPetitboot(nodeInfo('sysclone', ppc), { ...site, httpmethod: 'https', httpport: '8443' }, fakeProbe)
    expectGolden(out, 'petitboot', 'sysclone-https-8443', ['petitboot/n1'])
  })

  it('labels the genesis shell', () => {
    expectGolden(renderPetitboot(nodeInfo('shell', ppc), site, fakeProbe), 'petitboot', 'shell', ['petitboot/n1'])
    expectGolden(renderPetitboot(nodeInfo('runcmd-bmcsetup', ppc), site, fakeProbe), 'petitboot', 'runcmd-bmcsetup', ['petitboot/n1'])
  })

  it('writes only the state for boot', () => {
    const out = renderPetitboot(nodeInfo('boot', ppc), site, fakeProbe)
    expectGolden(out, 'petitboot', 'boot', ['petitboot/n1'])
    expect(out.hardlinks).to.deep.equal([{ path: '0A000005', target: 'petitboot/n1' }])
  })

  it('removes the file and the hex link for offline', () => {
    const out = renderPetitboot(nodeInfo('offline', ppc), site, fakeProbe)
    expect(out.files).to.deep.equal([])
    expect(out.hardlinks).to.deep.equal([])
    expect(out.remove).to.deep.equal(['petitboot/n1', '0A000005'])
  })

  it('falls back to the facing IP and leaves paths under the tftpdir alone', () => {
    const { server: _s, ...rest } = nodeInfo('shell', { ...ppc, facingIp: '192.168.1.1' })
    expect(renderPetitboot(rest, site, fakeProbe).files[0]!.content).to.include('\tkernel http://192.168.1.1:80/tftpboot/xcat/genesis.kernel.ppc64\n')
    const params = { kernel: '/tftpboot/xcat/k', initrd: GENESIS_PPC.initrd, kcmdline: 'quiet' }
    expect(renderPetitboot(nodeInfo('shell', { ...ppc, params }), site, fakeProbe).files[0]!.content).to.include('\tkernel /tftpboot/xcat/k\n')
  })

  it('appends the volatile addkcmdline', () => {
    const info = nodeInfo('shell', { ...ppc, imageAddkcmdline: 'R::crashkernel=256M console=hvc0' })
    expect(renderPetitboot(info, site, fakeProbe).files[0]!.content).to.include('\tappend "quiet xcatd=10.0.0.1:3001 destiny=shell console=hvc0"\n')
  })
})
