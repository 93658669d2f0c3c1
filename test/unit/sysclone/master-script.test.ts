import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { expect } from 'chai'
import { collectLayout } from '../../../lib/sysclone/layout/collect.js'
import type { Layout } from '../../../lib/sysclone/layout/model.js'
import { parseAutoinstallConf } from '../../../lib/sysclone/layout/si-conf.js'
import { FUNCTIONS_IN_SCRIPTS, installMasterScript, renderMasterScript } from '../../../lib/sysclone/master-script.js'
import type { SyscloneDirs } from '../../../lib/sysclone/paths.js'
import { ReplayProbe } from './layout/replay-probe.js'

const run = promisify(execFile)
const SHARE = join(import.meta.dirname, '../../../share/xcat/sysclone')

async function layoutOf(name: string): Promise<Layout> {
  return collectLayout(ReplayProbe.of(name))
}

function render(layout: Layout, image = 'img1'): string {
  return renderMasterScript(layout, { imageName: image, imageFeatures: { acls: true, xattrs: true } })
}

/** The body of one function of a rendered script. */
function body(script: string, name: string): string {
  const start = script.indexOf(`\n${name}() {\n`)
  expect(start, name).to.be.above(-1)
  return script.slice(start + 1, script.indexOf('\n}\n', start) + 2)
}

/** The commands of one function of a rendered script, one a line, without indentation. */
function bodyLines(script: string, name: string): string[] {
  return body(script, name).trim().split('\n').slice(1, -1).map((l) => l.trim())
}

/** sh -n and shellcheck -s sh of a script text; fails with their complaints. */
async function checkSyntax(script: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'master-'))
  try {
    const file = join(dir, 'img.master')
    writeFileSync(file, script)
    await run('sh', ['-n', file])
    await run('shellcheck', ['-s', 'sh', file]).catch((err: { stdout?: string }) => {
      throw new Error(`shellcheck: ${err.stdout ?? String(err)}`)
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Runs sh code with the function library loaded; its stdout. */
async function runSh(code: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const { stdout } = await run('sh', ['-c', `. "$1"\n${code}`, 'sh', join(SHARE, 'functions')], { env: { PATH: process.env.PATH, ...env } })
  return stdout
}

/** Runs the layout functions of a rendered script (not its main part) after `setup`, then `call`. */
function runFunctions(script: string, setup: string, call: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const functions = script.slice(script.indexOf('\n# The programs this image needs'), script.indexOf('\nsysclone_begin\n'))
  return runSh(`${setup}\n${functions}\n${call}`, env)
}

/** Stubs for layout_partition: no disk is touched, the table command's input is printed. */
const DRY_PARTITION = 'DISK0=/dev/sdq; sysclone_prepare_disk() { :; }; sysclone_sector_size() { echo 512; }; sysclone_disk_bytes() { echo 10737418240; }; sysclone_run() { cat; return 1; }'

/** A temporary directory for a test. */
function withTmp<T>(use: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'master-'))
  return use(dir).finally(() => rmSync(dir, { recursive: true, force: true }))
}

describe('sysclone master script', function () {
  this.timeout(30_000)

  it('partitions a GPT disk with an ESP like the golden client: same types, names, GUIDs, 1 MiB starts, the last one grown', async () => {
    const script = render(await layoutOf('gpt'))
    const part = body(script, 'layout_partition')
    for (const text of [
      'sysclone_prepare_disk "$DISK0" || return 1',
      'D0_P1_FIRST=$((1048576 / SS))\n  D0_P1_LAST=$((D0_P1_FIRST + (104857600 + SS - 1) / SS - 1))',
      'D0_P3_FIRST=$((240123904 / SS))\n  sysclone_run sgdisk --clear',
      '"--set-alignment=$((1048576 / SS))"',
      '--disk-guid=5c1d2e3f-4a5b-4c6d-8e7f-90a1b2c3d4e5',
      '"--new=1:$D0_P1_FIRST:$D0_P1_LAST" \\\n    --typecode=1:c12a7328-f81f-11d2-ba4b-00a0c93ec93b \\\n    \'--change-name=1:EFI System Partition\' \\\n    --partition-guid=1:7e34a24b-2a2c-4da7-9a34-501f886bf376',
      '"--new=3:$D0_P3_FIRST:0"',
      'sysclone_new_partitions "$DISK0" 1 2 3 || return 1',
      'ESP_DISK=$DISK0\n  ESP_PARTNUM=1\n  ESP_DEVICE=$DISK0_PART1',
    ]) {
      expect(part).to.include(text)
    }
    expect(body(script, 'layout_disks')).to.include('sysclone_check_disk "$DISK0" 536854016 gpt || return 1')
    await checkSyntax(script)
  })

  it('makes the file systems with the golden client\'s UUIDs, labels and FAT size, and mounts them parents first', async () => {
    const script = render(await layoutOf('gpt'))
    expect(bodyLines(script, 'layout_mkfs')).to.deep.equal([
      'sysclone_mkfs ext4 "$DISK0_PART3" 3b1f6d52-0c4a-4f7e-9a55-1d2a4b6c8e90 root || return 1',
      'sysclone_mkfs vfat "$DISK0_PART1" 1234-ABCD ESP -F 32 || return 1',
      'sysclone_mkfs swap "$DISK0_PART2" 6a0b7c2e-5d41-4c8f-8f3e-2b9a7d1c4e55 \'\' || return 1',
    ])
    expect(body(script, 'layout_mount')).to.include('sysclone_mount ext4 "$DISK0_PART3" / || return 1\n  sysclone_mount vfat "$DISK0_PART1" /boot/efi || return 1\n  ROOT_DEVICE="$DISK0_PART3"')
    expect(script).to.include('SYSCLONE_IMAGE_ACLS=yes\nSYSCLONE_IMAGE_XATTRS=yes\n')
    expect(script).to.match(/\nsysclone_begin\nsysclone_step tools layout_tools\nsysclone_step disks layout_disks\nsysclone_step partition layout_partition\nsysclone_step mkfs layout_mkfs\nsysclone_step mount layout_mount\nsysclone_step image sysclone_pull_image\nsysclone_step fstab layout_fstab\nsysclone_step overrides sysclone_pull_overrides\nsysclone_step system-mounts sysclone_mount_system\nsysclone_step post-install sysclone_run_post_install\nsysclone_step unmount sysclone_umount_all\nsysclone_finish\n$/)
  })

  it('writes the golden client\'s fstab for the node: lines in order, comments verbatim, "# <dev>" trailers with the node\'s devices', async () => {
    const layout = await layoutOf('gpt')
    const root = mkdtempSync(join(tmpdir(), 'fstab-'))
    try {
      await runFunctions(render(layout), 'DISK0_PART1=/dev/vdz1 DISK0_PART2=/dev/vdz2 DISK0_PART3=/dev/vdz3', 'layout_fstab', { XCAT_SYSCLONE_ROOT: root })
      const golden = ReplayProbe.of('gpt').read('fstab').split('\n')
      const fstab = readFileSync(join(root, 'etc', 'fstab'), 'utf8').split('\n')
      expect(fstab.slice(0, 7)).to.deep.equal(golden.slice(0, 7))
      expect(fstab.slice(7)).to.deep.equal([
        'UUID=3b1f6d52-0c4a-4f7e-9a55-1d2a4b6c8e90\t/\text4\terrors=remount-ro\t0\t1\t# /dev/vdz3',
        '# /boot/efi was on /dev/sda1 during installation',
        'UUID=1234-ABCD\t/boot/efi\tvfat\tumask=0077\t0\t1\t# /dev/vdz1',
        '/dev/disk/by-uuid/6a0b7c2e-5d41-4c8f-8f3e-2b9a7d1c4e55\tnone\tswap\tsw\t0\t0\t# /dev/vdz2',
        'proc\t/proc\tproc\tdefaults\t0\t0',
        '',
        'LABEL=scratch\t/scratch\text4\tnoauto,nofail\t0\t2\t# /dev/loop7p1',
        '/dev/sr0\t/media/cdrom0\tudf,iso9660\tuser,noauto\t0\t0',
        '',
      ])
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  it('partitions an msdos disk with sfdisk: boot flag, extended and logical partitions where the golden client had them', async () => {
    const script = render(await layoutOf('msdos'))
    const part = body(script, 'layout_partition')
    expect(part).to.include("printf '%s\\n' 'label: dos' 'label-id: 0x5eed0001' 'unit: sectors' ''")
    expect(part).to.include('sysclone_run sfdisk --quiet "$DISK0" <"$SYSCLONE_TMP/sfdisk.DISK0" || return 1')
    expect(part).to.include('sysclone_new_partitions "$DISK0" 1 5 6 || return 1')
    const table = await withTmp((dir) => runFunctions(script, DRY_PARTITION, 'layout_partition', { XCAT_SYSCLONE_TMP: dir }).catch((e: { stdout: string }) => e.stdout))
    expect(table).to.equal([
      'label: dos', 'label-id: 0x5eed0001', 'unit: sectors', '',
      '/dev/sdq1 : start=2048, size=524288, type=83, bootable',
      '/dev/sdq2 : start=526336, type=5',
      '/dev/sdq5 : start=528384, size=614400, type=83',
      '/dev/sdq6 : start=1144832, type=83', '',
    ].join('\n'))
    await checkSyntax(script)
  })

  it('names NVMe partitions with a p, keeps legacy_boot and PARTLABEL= lines, and makes a FAT16 ESP', async () => {
    const script = render(await layoutOf('nvme'))
    const part = body(script, 'layout_partition')
    expect(part).to.include('--attributes=3:set:2')
    expect(part).to.include("'--change-name=1:BIOS boot'")
    expect(part).to.include('ESP_PARTNUM=2')
    expect(body(script, 'layout_mkfs')).to.include('sysclone_mkfs vfat "$DISK0_PART2" 0A1B-2C3D ESP -F 16 || return 1')
    expect(body(script, 'layout_fstab')).to.include("'PARTLABEL=EFI\\040System\\040Partition' /boot/efi vfat")
    const names = await runSh('for d in /dev/nvme0n1 /dev/mmcblk0 /dev/loop7 /dev/md0 /dev/sda /dev/vdb /dev/cciss/c0d0; do sysclone_part_dev "$d" 2; done')
    expect(names.trim().split('\n')).to.deep.equal(['/dev/nvme0n1p2', '/dev/mmcblk0p2', '/dev/loop7p2', '/dev/md0p2', '/dev/sda2', '/dev/vdb2', '/dev/cciss/c0d0p2'])
    await checkSyntax(script)
  })

  it('creates LVM volume groups and volumes with the golden client\'s names and sizes, the last one taking the rest', async () => {
    const script = render(await layoutOf('lvm'))
    expect(bodyLines(script, 'layout_lvm')).to.deep.equal([
      'sysclone_quiet modprobe dm-mod',
      'sysclone_lvm pvcreate -ff -y "$DISK0_PART3" || return 1',
      'sysclone_lvm vgcreate -y -s 4096k rhel "$DISK0_PART3" || return 1',
      'sysclone_created_vg rhel /dev/mapper/rhel-root /dev/mapper/rhel-swap /dev/mapper/rhel-lv--data',
      'sysclone_lvm lvcreate -y -Wy -Zy -n root -L 12884901888b rhel || return 1',
      'sysclone_lvm lvcreate -y -Wy -Zy -n swap -L 2147483648b rhel || return 1',
      'sysclone_lvm lvcreate -y -Wy -Zy -n lv-data -l 100%FREE rhel || return 1',
      'sysclone_lvm vgchange -ay rhel || return 1',
      'sysclone_quiet lvm vgmknodes rhel',
      'sysclone_wait_dev /dev/mapper/rhel-root || return 1',
      'sysclone_wait_dev /dev/mapper/rhel-swap || return 1',
      'sysclone_wait_dev /dev/mapper/rhel-lv--data || return 1',
    ])
    expect(body(script, 'layout_mkfs')).to.include('sysclone_mkfs xfs /dev/mapper/rhel-root 8f3a2b1c-4d5e-4f60-9a7b-8c9d0e1f2a3b \'\' || return 1')
    expect(body(script, 'layout_mount')).to.include('sysclone_mount xfs /dev/mapper/rhel-root / || return 1\n  sysclone_mount ext4 "$DISK0_PART2" /boot || return 1\n  sysclone_mount ext4 /dev/mapper/rhel-lv--data /data || return 1')
    expect(body(script, 'layout_tools')).to.match(/ sgdisk lvm mkfs\.xfs mke2fs mkswap\n/)
    expect(script.indexOf('sysclone_step lvm layout_lvm')).to.be.above(script.indexOf('sysclone_step partition layout_partition'))
    await checkSyntax(script)
  })

  it('creates md arrays with the golden client\'s level, metadata, UUID, name and spares before the LVM on them', async () => {
    const script = render(await layoutOf('md'))
    expect(body(script, 'layout_disks')).to.include('sysclone_choose_disks 3 || return 1\n  sysclone_check_disk "$DISK0" 8589917696 gpt || return 1\n  sysclone_check_disk "$DISK1" 8589917696 gpt || return 1\n  sysclone_check_disk "$DISK2" 4296015872 msdos || return 1')
    const raid = body(script, 'layout_raid')
    expect(raid).to.include('sysclone_run mdadm --create /dev/md0 --run --level=raid1 --raid-devices=2 --spare-devices=1 --metadata=1.2 --uuid=3f9a8b7c:6d5e4f30:2a1b0c9d:8e7f6a5b --homehost=golden --name=0 \\\n    "$DISK0_PART2" "$DISK1_PART2" "$DISK2_PART1" || return 1')
    expect(raid).to.include('--uuid=5b6c7d8e:9fa04b1c:2d3e4f5a:6b7c8d9e --homehost=golden --name=1 \\\n    "$DISK0_PART3" "$DISK1_PART3" || return 1')
    expect(raid.indexOf('sysclone_created_md /dev/md0')).to.be.below(raid.indexOf('mdadm --create /dev/md0'))
    expect(body(script, 'layout_lvm')).to.include('sysclone_lvm pvcreate -ff -y /dev/md1 || return 1')
    expect(body(script, 'layout_mkfs')).to.include('sysclone_mkfs ext4 /dev/md0 a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d root || return 1')
    expect(script).to.include('sysclone_step partition layout_partition\nsysclone_step raid layout_raid\nsysclone_step lvm layout_lvm\n')
    await checkSyntax(script)
  })

  it('places partitions of a percent layout on the node\'s disk, and aligns an old 63-sector msdos layout to 1 MiB', async () => {
    const percent = parseAutoinstallConf([
      '<config>',
      '  <disk dev="/dev/sda" label_type="msdos" unit_of_measurement="%">',
      '    <part num="1" size="10" p_type="primary" p_name="-" flags="boot" />',
      '    <part num="2" size="*" p_type="primary" p_name="-" flags="-" />',
      '  </disk>',
      '  <fsinfo line="10" real_dev="/dev/sda2" mount_dev="LABEL=root" mp="/" fs="ext4" options="defaults" dump="1" pass="1" />',
      '</config>',
    ].join('\n'))
    const script = render(percent)
    const vars = await withTmp((dir) => runFunctions(script, DRY_PARTITION, 'layout_partition; echo "$D0_P1_FIRST $D0_P1_LAST $D0_P2_FIRST"', { XCAT_SYSCLONE_TMP: dir }).catch((e: { stdout: string }) => e.stdout))
    expect(vars.split('\n').at(-2)).to.equal(`2048 ${2048 + 2097152 - 1} ${2048 + 2097152}`)
    const msdos = await layoutOf('msdos')
    const part = (num: number, pType: 'primary' | 'extended' | 'logical', startSector: number, sizeSectors: number, grow = false) => ({ num, dev: `/dev/sda${num}`, startSector, sizeSectors, sizeMiB: Math.floor(sizeSectors / 2048), grow, pType, mbrId: pType === 'extended' ? '5' : '83', flags: [] })
    const old: Layout = { ...msdos, disks: [{ ...msdos.disks[0]!, partitions: [part(1, 'primary', 63, 524225), part(2, 'extended', 524288, 1572864, true), part(5, 'logical', 524351, 614337), part(6, 'logical', 1138751, 958401, true)] }] }
    const oldScript = render(old)
    const out = await withTmp((dir) => runFunctions(oldScript, DRY_PARTITION, 'layout_partition; echo "$D0_P1_FIRST $D0_P1_LAST $D0_P2_FIRST $D0_P5_FIRST $D0_P5_LAST $D0_P6_FIRST"', { XCAT_SYSCLONE_TMP: dir }).catch((e: { stdout: string }) => e.stdout))
    const [p1, p1last, p2, p5, p5last, p6] = out.split('\n').at(-2)!.split(' ').map(Number)
    expect([p1, p2, p5, p6].map((s) => s! % 2048)).to.deep.equal([0, 0, 0, 0])
    expect(p1last! - p1! + 1).to.equal(524225)
    expect(p5last! - p5! + 1).to.equal(614337)
    expect(p2).to.be.above(p1last!)
    expect(p5).to.be.above(p2!)
    expect(p6).to.be.above(p5last!)
    await checkSyntax(oldScript)
    await checkSyntax(script)
  })

  it('quotes whatever the layout holds, so that names, labels and comments reach the disk as they are', async () => {
    const layout = await layoutOf('gpt')
    const odd: Layout = {
      ...layout,
      disks: layout.disks.map((d) => ({ ...d, partitions: d.partitions.map((p) => (p.num === 3 ? { ...p, name: "it's $(reboot) `x`" } : p)) })),
      fstab: [{ line: 5, comment: "# a 'quoted' $HOME `cmd` \\ comment", format: false }, ...layout.fstab.map((e) => (e.mp === '/' ? { ...e, label: "r'o$(x)" } : e))],
    }
    const script = render(odd)
    expect(body(script, 'layout_partition')).to.include(`'--change-name=3:it'\\''s $(reboot) \`x\`'`)
    expect(body(script, 'layout_mkfs')).to.include(`'r'\\''o$(x)'`)
    const root = mkdtempSync(join(tmpdir(), 'fstab-'))
    try {
      await runFunctions(script, 'DISK0_PART1=a DISK0_PART2=b DISK0_PART3=c', 'layout_fstab', { XCAT_SYSCLONE_ROOT: root })
      expect(readFileSync(join(root, 'etc', 'fstab'), 'utf8').split('\n')[0]).to.equal("# a 'quoted' $HOME `cmd` \\ comment")
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
    await checkSyntax(script)
  })

  it('refuses what it cannot install: a bad image name, a layout without disks or root, a NUL in a value', async () => {
    const layout = await layoutOf('gpt')
    expect(() => renderMasterScript(layout, { imageName: '../x' })).to.throw(/cannot name a master script/)
    expect(() => renderMasterScript({ ...layout, disks: [] }, { imageName: 'img1' })).to.throw(/no disk with a partition table/)
    expect(() => renderMasterScript({ ...layout, fstab: layout.fstab.filter((e) => e.mp !== '/') }, { imageName: 'img1' })).to.throw(/no root file system/)
    expect(() => renderMasterScript({ ...layout, fstab: [{ line: 1, comment: 'a\0b', format: false }, ...layout.fstab] }, { imageName: 'img1' })).to.throw(/NUL/)
    expect(() => renderMasterScript(layout, { imageName: 'img1', diskOrder: 'sd;reboot' })).to.throw(/DISKORDER/)
  })

  it('leaves ACLs and xattrs to a try when the image\'s features are not known', async () => {
    const script = renderMasterScript(await layoutOf('gpt'), { imageName: 'img1' })
    expect(script).to.include('SYSCLONE_IMAGE_ACLS=auto\nSYSCLONE_IMAGE_XATTRS=auto\n')
    expect(script).to.include('[ -n "${IMAGENAME:-}" ] || IMAGENAME=img1\n[ -n "${OVERRIDES:-}" ] || OVERRIDES="img1 ${GROUP_OVERRIDES:-} ${HOSTNAME:-}"\n[ -n "${DISKORDER:-}" ] || DISKORDER=sd,cciss,vd,nvme,xvd,hd\n')
  })

  it('installs the script (mode 0755) and its function library into the scripts module', async () => {
    const root = mkdtempSync(join(tmpdir(), 'scripts-'))
    try {
      const dirs: SyscloneDirs = { home: root, images: join(root, 'images'), scripts: join(root, 'scripts'), overrides: join(root, 'overrides'), systemimager: join(root, 'si') }
      const script = render(await layoutOf('gpt'))
      const path = await installMasterScript(dirs, 'img1', script)
      expect(path).to.equal(join(dirs.scripts, 'img1.master'))
      expect(readFileSync(path, 'utf8')).to.equal(script)
      expect(statSync(path).mode & 0o777).to.equal(0o755)
      expect(readFileSync(join(dirs.scripts, FUNCTIONS_IN_SCRIPTS), 'utf8')).to.equal(readFileSync(join(SHARE, 'functions'), 'utf8'))
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  it('ships an installer and a function library that sh and shellcheck accept', async () => {
    for (const file of ['installer', 'functions']) {
      await run('sh', ['-n', join(SHARE, file)])
      await run('shellcheck', ['-s', 'sh', join(SHARE, file)]).catch((err: { stdout?: string }) => {
        throw new Error(`shellcheck ${file}: ${err.stdout ?? String(err)}`)
      })
    }
    expect(statSync(join(SHARE, 'installer')).mode & 0o111).to.equal(0o111)
  })
})
