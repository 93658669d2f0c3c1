import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { excludeFileContent, identityExcludes, mountExcludes, serverExcludes } from '../../../lib/sysclone/capture-excludes.js'

describe('capture excludes', () => {
  it('leaves out the content of every mount that is not a local disk file system', () => {
    const mounts = [
      { target: '/', source: '/dev/vda2', fstype: 'ext4' },
      { target: '/proc', source: 'proc', fstype: 'proc' },
      { target: '/sys', source: 'sysfs', fstype: 'sysfs' },
      { target: '/dev/pts', source: 'devpts', fstype: 'devpts' },
      { target: '/run', source: 'tmpfs', fstype: 'tmpfs' },
      { target: '/home', source: 'nfs:/home', fstype: 'nfs4' },
      { target: '/data', source: '/dev/vdb1', fstype: 'btrfs' },
      { target: '/boot/efi', source: '/dev/vda1', fstype: 'fuse.fusefat' },
      { target: '/mnt/usb', source: '/dev/sdz1', fstype: 'fuseblk' },
    ]
    const fstab = new Map([['/boot/efi', 'vfat']])
    expect(mountExcludes(mounts, fstab)).to.deep.equal(['/dev/pts/*', '/home/*', '/mnt/usb/*', '/proc/*', '/run/*', '/sys/*'])
  })

  it('installs the default getimage.exclude on the server once and then uses the administrator\'s copy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'si-'))
    try {
      const first = await serverExcludes(join(dir, 'systemimager'))
      expect(first).to.include('/etc/udev/rules.d/70-persistent-net.rules')
      writeFileSync(join(dir, 'systemimager', 'getimage.exclude'), '# mine\n/scratch/*\n')
      expect(await serverExcludes(join(dir, 'systemimager'))).to.deep.equal(['/scratch/*'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('scrubs host keys, machine-id and leases', async () => {
    expect(await identityExcludes()).to.include.members(['/etc/ssh/ssh_host_*', '/etc/machine-id', '/etc/lvm/devices/system.devices'])
  })

  it('writes the sections in SystemImager\'s order', () => {
    const text = excludeFileContent({ mounts: ['/proc/*'], server: ['/media/*'], user: ['/scratch'], identity: [] })
    expect(text).to.equal('# file systems whose content is not captured\n/proc/*\n# getimage.exclude\n/media/*\n# given to imgcapture\n/scratch\n')
    expect(readFileSync(new URL('../../../share/xcat/sysclone/getimage.exclude', import.meta.url), 'utf8')).to.match(/\+ \/var\/lib\/nfs\/statd\/sm\n/)
  })
})
