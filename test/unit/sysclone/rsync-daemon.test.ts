import { expect } from 'chai'
import { imageRsyncdConf, imageRsyncdConfPath, requiresRestart, rsyncDaemonFiles, type ImageRsyncDaemonOptions } from '../../../lib/sysclone/rsync-daemon.js'
import type { SyscloneDirs } from '../../../lib/sysclone/paths.js'

const dirs: SyscloneDirs = { home: '/install/sysclone', images: '/install/sysclone/images', scripts: '/install/sysclone/scripts', overrides: '/install/sysclone/overrides', systemimager: '/etc/systemimager' }

function conf(extra: Partial<ImageRsyncDaemonOptions> = {}): string {
  return imageRsyncdConf({ dirs, images: [], allow: ['10.0.0.0/255.255.0.0'], stateDir: '/run/xs', ...extra })
}

function modules(text: string): [string, string][] {
  return [...text.matchAll(/^\[(.*)\]\n\tpath = (.*)$/gm)].map((m) => [m[1]!, m[2]!])
}

function setting(text: string, key: string): string | undefined {
  return new RegExp(`^${key} = (.*)$`, 'm').exec(text)?.[1]
}

describe('image rsync daemon config', () => {
  it('puts its pid, lock and log files in the state directory, or in /run and /var/log/xcat', () => {
    expect(rsyncDaemonFiles('/tmp/s')).to.deep.equal({ pidFile: '/tmp/s/rsyncd.pid', lockFile: '/tmp/s/rsyncd.lock', logFile: '/tmp/s/rsyncd.log' })
    expect(rsyncDaemonFiles()).to.deep.equal({ pidFile: '/run/xcat-sysclone-rsyncd.pid', lockFile: '/run/xcat-sysclone-rsyncd.lock', logFile: '/var/log/xcat/sysclone-rsyncd.log' })
    expect(imageRsyncdConfPath(dirs)).to.equal('/etc/systemimager/xcat-rsyncd.conf')
  })

  it('writes the global settings of a read-only chrooted root daemon', () => {
    const text = conf()
    expect(setting(text, 'pid file')).to.equal('/run/xs/rsyncd.pid')
    expect(setting(text, 'lock file')).to.equal('/run/xs/rsyncd.lock')
    expect(setting(text, 'log file')).to.equal('/run/xs/rsyncd.log')
    expect(setting(text, 'port')).to.equal('873')
    expect(setting(text, 'address')).to.equal(undefined)
    expect(setting(text, 'use chroot')).to.equal('yes')
    expect(setting(text, 'read only')).to.equal('yes')
    expect(setting(text, 'uid')).to.equal('root')
    expect(setting(text, 'gid')).to.equal('root')
    expect(setting(text, 'list')).to.equal('yes')
    expect(setting(text, 'timeout')).to.equal('600')
    expect(setting(text, 'dont compress')).to.include('*.rpm')
    expect(text.indexOf('hosts allow')).to.be.below(text.indexOf('['))
    expect(conf({ port: 10873, address: '10.0.0.1' })).to.match(/^port = 10873\naddress = 10\.0\.0\.1$/m)
  })

  it('allows the node networks and the loopback addresses', () => {
    expect(setting(conf({ allow: ['10.0.0.0/255.255.0.0', '192.168.1.0/24'] }), 'hosts allow')).to.equal('10.0.0.0/255.255.0.0 192.168.1.0/24 127.0.0.1 ::1')
    expect(setting(conf({ allow: ['127.0.0.1', 'fd00::/64'] }), 'hosts allow')).to.equal('127.0.0.1 fd00::/64 ::1')
    expect(setting(conf({ allow: ['10.9.9.9'], allowLoopback: false }), 'hosts allow')).to.equal('10.9.9.9')
    expect(() => conf({ allow: [], allowLoopback: false })).to.throw(/at least one hosts allow/)
    for (const bad of ['10.0.0.0/8 1.2.3.4', '10.0.0.0/8,1.2.3.4', '', '10.0.0.1\n[evil]', '%HOME%']) expect(() => conf({ allow: [bad] }), bad).to.throw(/hosts allow pattern/)
  })

  it('lists scripts, overrides, then the images by name', () => {
    const text = conf({ images: [{ name: 'rhels9-x86_64-sysclone', path: '/install/sysclone/images/rhels9-x86_64-sysclone' }, { name: 'alma8', path: '/data/alma8' }] })
    expect(modules(text)).to.deep.equal([
      ['scripts', '/install/sysclone/scripts'],
      ['overrides', '/install/sysclone/overrides'],
      ['alma8', '/data/alma8'],
      ['rhels9-x86_64-sysclone', '/install/sysclone/images/rhels9-x86_64-sysclone'],
    ])
    expect(text.endsWith('\n')).to.equal(true)
  })

  it('is the same text whatever order the images come in', () => {
    const a = { name: 'a', path: '/i/a' }
    const b = { name: 'b', path: '/i/b' }
    expect(conf({ images: [b, a, b] })).to.equal(conf({ images: [a, b] }))
  })

  it('keeps paths raw and makes rsync read them back exactly', () => {
    const text = conf({ images: [
      { name: 'spaces', path: '/install/sysclone/images/my image' },
      { name: 'trailing', path: '/data/img ' },
      { name: 'backslash', path: '/data/img\\' },
      { name: 'dotdir', path: '/data/./img//x/' },
      { name: 'percent', path: '/data/100%' },
      { name: 'comment', path: '/data/#1;2' },
    ] })
    expect(Object.fromEntries(modules(text))).to.deep.include({
      spaces: '/install/sysclone/images/my image',
      trailing: '/data/img /',
      backslash: '/data/img\\/',
      dotdir: '/data/img/x',
      percent: '/data/100%',
      comment: '/data/#1;2',
    })
  })

  it('refuses paths rsync cannot read back', () => {
    for (const path of ['/data/a\nb', '/data/a\r', '/data/a\0', '/data/%HOME%', 'images/relative', '']) {
      expect(() => conf({ images: [{ name: 'img', path }] }), JSON.stringify(path)).to.throw(/line break|expand|absolute/)
    }
    expect(() => conf({ dirs: { ...dirs, scripts: '/install/a\nb' } })).to.throw(/scripts directory.*line break/)
  })

  it('refuses module names that are not safe image names or clash with the shared modules', () => {
    for (const name of ['a b', 'a]', 'a/b', '.hidden', '', 'x\n[y]', 'a%b']) expect(() => conf({ images: [{ name, path: '/i/x' }] }), name).to.throw(/cannot be an rsync module name/)
    for (const name of ['scripts', 'overrides', 'global', 'GLOBAL']) expect(() => conf({ images: [{ name, path: '/i/x' }] }), name).to.throw(/clashes/)
    expect(() => conf({ images: [{ name: 'a', path: '/i/a' }, { name: 'a', path: '/i/b' }] })).to.throw(/given twice/)
  })

  it('refuses a bad port or listen address', () => {
    for (const port of [0, 65536, 8.5, Number.NaN]) expect(() => conf({ port }), String(port)).to.throw(/port/)
    for (const address of ['10.0.0.1 10.0.0.2', '10.0.0.1\nport = 1', '']) expect(() => conf({ address }), address).to.throw(/listen address/)
  })

  it('restarts only for settings rsync reads when it starts', () => {
    const base = conf({ images: [{ name: 'a', path: '/i/a' }] })
    expect(requiresRestart(base, base)).to.equal(false)
    expect(requiresRestart(base, conf({ images: [{ name: 'a', path: '/i/a' }, { name: 'b', path: '/i/b' }] }))).to.equal(false)
    expect(requiresRestart(base, conf({ allow: ['10.9.9.9'] }))).to.equal(false)
    expect(requiresRestart(base, conf({ port: 874 }))).to.equal(true)
    expect(requiresRestart(base, conf({ address: '10.0.0.1' }))).to.equal(true)
    expect(requiresRestart(base, conf({ stateDir: '/run/other' }))).to.equal(true)
    expect(requiresRestart(undefined, base)).to.equal(true)
  })
})
