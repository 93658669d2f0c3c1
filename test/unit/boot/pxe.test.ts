import { expect } from 'chai'
import { renderPxe } from '../../../lib/boot/pxe.js'
import type { BootProbe } from '../../../lib/boot/types.js'
import { expectGolden, fakeProbe, GENESIS_X86, nodeInfo, SYSCLONE_KCMDLINE } from './golden.js'

const site = { tftpdir: '/tftpboot' }
const attrs: Record<string, string> = { 'nodehm.serialspeed': '115200', 'nodehm.serialport': '1' }

describe('pxe writer', () => {
  it('writes the sysclone config and hex-IP symlinks for the node and its aliases', () => {
    const out = renderPxe(nodeInfo('sysclone', { aliasIps: ['10.0.1.5', '10.0.0.5'] }), site, fakeProbe)
    expectGolden(out, 'pxe', 'sysclone', ['pxelinux.cfg/n1'])
    expect(out.symlinks).to.deep.equal([
      { path: 'pxelinux.cfg/0A000005', target: 'n1' },
      { path: 'pxelinux.cfg/0A000105', target: 'n1' },
    ])
    expect(out.remove).to.deep.equal([])
    expect(out.hardlinks).to.deep.equal([])
  })

  it('writes LOCALBOOT for boot and keeps the links', () => {
    const out = renderPxe(nodeInfo('boot'), site, fakeProbe)
    expectGolden(out, 'pxe', 'boot', ['pxelinux.cfg/n1'])
    expect(out.symlinks).to.deep.equal([{ path: 'pxelinux.cfg/0A000005', target: 'n1' }])
  })

  it('boots genesis for shell and runcmd', () => {
    expectGolden(renderPxe(nodeInfo('shell'), site, fakeProbe), 'pxe', 'shell', ['pxelinux.cfg/n1'])
    expectGolden(renderPxe(nodeInfo('runcmd-bmcsetup'), site, fakeProbe), 'pxe', 'runcmd-bmcsetup', ['pxelinux.cfg/n1'])
  })

  it('leaves IPAPPEND out for fedora12/13', () => {
    expectGolden(renderPxe(nodeInfo('shell', { os: 'fedora13' }), site, fakeProbe), 'pxe', 'shell-fedora13', ['pxelinux.cfg/n1'])
  })

  it('removes the file and every hex link for offline', () => {
    const out = renderPxe(nodeInfo('offline', { aliasIps: ['10.0.1.5'] }), site, fakeProbe)
    expect(out.files).to.deep.equal([])
    expect(out.symlinks).to.deep.equal([])
    expect(out.remove).to.deep.equal(['pxelinux.cfg/n1', 'pxelinux.cfg/0A000005', 'pxelinux.cfg/0A000105'])
  })

  it('makes no hex links without an IP', () => {
    const { ip: _ip, ...rest } = nodeInfo('sysclone')
    expect(renderPxe(rest, site, fakeProbe).symlinks).to.deep.equal([])
  })

  it('appends the volatile, expanded addkcmdline and fills in !myipfn!', () => {
    const seen: string[] = []
    const probe: BootProbe = {
      ...fakeProbe,
      lookup: (table, column, node) => {
        seen.push(`${table}.${column}@${node}`)
        return attrs[`${table}.${column}`]
      },
    }
    const info = nodeInfo('sysclone', {
      facingIp: '10.0.0.254',
      params: { ...GENESIS_X86, kcmdline: SYSCLONE_KCMDLINE, addkcmdline: 'console=ttyS0,115200 R::crashkernel=256M speed=#NODEATTRIB:nodehm:serialspeed#' },
      imageAddkcmdline: 'R::rd.shell port=#TABLE:nodehm:$NODE:serialport# srv=!myipfn!',
    })
    expectGolden(renderPxe(info, site, probe), 'pxe', 'addkcmdline', ['pxelinux.cfg/n1'])
    expect(seen).to.deep.equal(['nodehm.serialspeed@n1', 'nodehm.serialport@n1'])
  })

  it('fails a node whose command line needs !myipfn! when no facing IP is known', () => {
    const { facingIp: _f, ...rest } = nodeInfo('shell', { params: { ...GENESIS_X86, kcmdline: 'xcatd=!myipfn!:3001' } })
    expect(() => renderPxe(rest, site, fakeProbe)).to.throw('Unable to determine or reasonably guess the image server for n1')
  })
})
