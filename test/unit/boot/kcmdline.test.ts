import { expect } from 'chai'
import { addkcmdlineRefs, bootKcmdline, expandAddkcmdline, substituteMyIp, volatileAddkcmdline } from '../../../lib/boot/kcmdline.js'
import { hexIp, hexIps, installMac, macAliasHosts, parseMacEntry } from '../../../lib/boot/net.js'
import { loaderForNetboot, rendererFor } from '../../../lib/boot/render.js'
import { renderGrub2 } from '../../../lib/boot/grub2.js'
import { fakeProbe } from './golden.js'

const attrs: Record<string, string> = { 'nodehm.serialport': '0', 'nodehm.serialspeed': '115200', 'noderes.xcatmaster': 'mn1' }
const lookup = (table: string, column: string): string | undefined => attrs[`${table}.${column}`]

describe('addkcmdline handling', () => {
  it('keeps only the volatile tokens', () => {
    expect(volatileAddkcmdline('R::crashkernel=256M console=ttyS0  R::quiet rd.debug')).to.equal('console=ttyS0 rd.debug')
    expect(volatileAddkcmdline('R::a R::b')).to.equal('')
  })

  it('expands node attributes and $NODE/THISNODE table references', () => {
    expect(expandAddkcmdline('console=ttyS#NODEATTRIB:nodehm:serialport#,#TABLE:nodehm:$NODE:serialspeed# m=#TABLE:noderes:THISNODE:xcatmaster#', 'n1', lookup))
      .to.equal('console=ttyS0,115200 m=mn1')
    expect(expandAddkcmdline('x=#NODEATTRIB:nodehm:missing#', 'n1', lookup)).to.equal('x=')
    expect(() => expandAddkcmdline('#TABLE:site:master:value#', 'n1', lookup)).to.throw('Table key of master not yet supported by boottarget mini-template')
  })

  it('lists the referenced columns once each', () => {
    expect(addkcmdlineRefs('#NODEATTRIB:nodehm:serialport# #TABLE:nodehm:$NODE:serialport# #TABLE:noderes:THISNODE:xcatmaster# #TABLE:site:k:v#'))
      .to.deep.equal([{ table: 'nodehm', column: 'serialport' }, { table: 'noderes', column: 'xcatmaster' }])
  })

  it('joins kcmdline, node and image addkcmdline', () => {
    const params = { kcmdline: 'quiet', addkcmdline: 'R::x a=#NODEATTRIB:nodehm:serialspeed#' }
    expect(bootKcmdline({ node: 'n1', state: 'shell', params, imageAddkcmdline: 'b' }, { lookup })).to.equal('quiet a=115200 b')
    expect(bootKcmdline({ node: 'n1', state: 'shell', imageAddkcmdline: 'b' }, {})).to.equal('b')
    expect(bootKcmdline({ node: 'n1', state: 'shell', params: { kcmdline: 'quiet' }, imageAddkcmdline: 'R::b' }, {})).to.equal('quiet')
    expect(bootKcmdline({ node: 'n1', state: 'shell', params: { addkcmdline: 'a=#NODEATTRIB:nodehm:serialspeed#' } }, {})).to.equal('a=')
  })

  it('replaces !myipfn!', () => {
    expect(substituteMyIp('a=!myipfn! b=!myipfn!', '10.0.0.1', 'n1')).to.equal('a=10.0.0.1 b=10.0.0.1')
    expect(substituteMyIp('quiet', undefined, 'n1')).to.equal('quiet')
  })
})

describe('boot file names', () => {
  it('spells IPv4 addresses in upper-case hex', () => {
    expect(hexIp('10.0.0.5')).to.equal('0A000005')
    expect(hexIp('192.168.255.1')).to.equal('C0A8FF01')
    expect(hexIp('10.0.0.256')).to.equal(undefined)
    expect(hexIp('fd00::5')).to.equal(undefined)
    expect(hexIps('10.0.0.5', ['10.0.0.5', '10.0.1.5', 'bad'])).to.deep.equal(['0A000005', '0A000105'])
    expect(hexIps(undefined, ['10.0.1.5'])).to.deep.equal(['0A000105'])
  })

  it('reads mac.mac entries as parseMacTabEntry does', () => {
    expect(parseMacEntry('52:54:00:00:00:01', 'n1')).to.equal('52:54:00:00:00:01')
    expect(parseMacEntry('52:54:00:00:00:01|52:54:00:00:00:02!n1-ib|52:54:00:00:00:03!n1', 'n1')).to.equal('52:54:00:00:00:03')
    expect(parseMacEntry('525400000001!n1-ib|525400000002', 'n1')).to.equal('52:54:00:00:00:02')
    expect(macAliasHosts('52:54:00:00:00:01|52:54:00:00:00:02!n1-ib|x!')).to.deep.equal(['n1-ib'])
    expect(installMac('52:54:00:00:00:AB', 'n1')).to.equal('52:54:00:00:00:ab')
    expect(installMac('52:54:00:00:00:AB', 'n1', 'AA:BB:CC:DD:EE:FF')).to.equal('aa:bb:cc:dd:ee:ff')
    expect(installMac('52:54:00:00:00:AB', 'n1', 'eth0')).to.equal('52:54:00:00:00:ab')
    expect(installMac(undefined, 'n1', 'mac')).to.equal(undefined)
  })

  it('picks the writer from noderes.netboot', () => {
    expect(loaderForNetboot('xnba')).to.equal('xnba')
    expect(loaderForNetboot('grub2-http')).to.equal('grub2')
    expect(loaderForNetboot('yaboot')).to.equal(undefined)
    expect(loaderForNetboot(undefined)).to.equal(undefined)
    expect(rendererFor('grub2')).to.equal(renderGrub2)
  })

  it('fails a node without a current state or with a path for a name in every writer', () => {
    for (const loader of ['xnba', 'pxe', 'grub2', 'petitboot'] as const) {
      expect(() => rendererFor(loader)({ node: 'n1', state: '' }, { tftpdir: '/tftpboot' }, fakeProbe)).to.throw('Cannot determine current state for this node')
      expect(() => rendererFor(loader)({ node: '../n1', state: 'boot' }, { tftpdir: '/tftpboot' }, fakeProbe)).to.throw('Invalid node name "../n1"')
    }
  })
})
