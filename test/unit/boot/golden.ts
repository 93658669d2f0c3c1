import { expect } from 'chai'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import type { BootFiles, BootProbe, NodeBootInfo, NodeBootParams } from '../../../lib/boot/types.js'

export const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'boot')

export const SYSCLONE_KCMDLINE = 'ramdisk_size=200000 ksdevice=52:54:00:00:00:01 XCAT=10.0.0.1:3001 xcatd=10.0.0.1:3001 SCRIPTNAME=img1'
export const GENESIS_X86 = { kernel: 'xcat/genesis.kernel.x86_64', initrd: 'xcat/genesis.fs.x86_64.lzma' }
export const GENESIS_PPC = { kernel: 'xcat/genesis.kernel.ppc64', initrd: 'xcat/genesis.fs.ppc64.lzma' }

export type StateCase = 'sysclone' | 'boot' | 'shell' | 'runcmd-bmcsetup' | 'offline'

export function stateInfo(kase: StateCase, arch: 'x86_64' | 'ppc64le' = 'x86_64'): { state: string; params?: NodeBootParams } {
  const genesis = arch === 'x86_64' ? GENESIS_X86 : GENESIS_PPC
  switch (kase) {
    case 'sysclone': return { state: `sysclone rhels9.4-${arch}`, params: { ...genesis, kcmdline: SYSCLONE_KCMDLINE } }
    case 'shell': return { state: 'shell', params: { ...genesis, kcmdline: 'quiet xcatd=10.0.0.1:3001 destiny=shell' } }
    case 'runcmd-bmcsetup': return { state: 'runcmd=bmcsetup', params: { ...genesis, kcmdline: 'quiet xcatd=10.0.0.1:3001 destiny=runcmd=bmcsetup' } }
    case 'boot': return { state: 'boot' }
    case 'offline': return { state: 'offline' }
  }
}

export function nodeInfo(kase: StateCase, extra: Partial<NodeBootInfo> = {}): NodeBootInfo {
  const arch = extra.arch === 'ppc64le' ? 'ppc64le' : 'x86_64'
  return { node: 'n1', ip: '10.0.0.5', macs: ['52:54:00:00:00:01'], arch, os: 'rhels9.4', server: '10.0.0.1', facingIp: '10.0.0.1', ...stateInfo(kase, arch), ...extra }
}

export const fakeProbe: BootProbe = { kernelHasEfiStub: () => false, exists: () => true }

export function expectGolden(out: BootFiles, loader: string, kase: string, paths: readonly string[]): void {
  expect(out.files.map((f) => f.path)).to.deep.equal(paths)
  for (const file of out.files) {
    const golden = readFileSync(join(FIXTURES, loader, kase, basename(file.path)))
    expect(file.content, file.path).to.equal(golden.toString('utf8'))
    expect(Buffer.from(file.content).equals(golden), file.path).to.equal(true)
  }
}

export function writeKernel(tftpdir: string, rel: string, efiStub: boolean): void {
  const image = Buffer.alloc(512)
  image.write('MZ', 0, 'latin1')
  if (efiStub) Buffer.from([0x50, 0x45, 0x00, 0x00, 0x64, 0x86]).copy(image, 0x80)
  mkdirSync(dirname(join(tftpdir, rel)), { recursive: true })
  writeFileSync(join(tftpdir, rel), image)
}
