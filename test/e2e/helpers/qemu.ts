import { spawn } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** OVMF firmware files, Debian's 4M build first. */
const OVMF = [
  { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.fd' },
  { code: '/usr/share/OVMF/OVMF_CODE.fd', vars: '/usr/share/OVMF/OVMF_VARS.fd' },
]

/** How a disk is booted in a virtual machine. */
export interface VmBootOptions {
  readonly firmware: 'uefi' | 'bios'
  /** The serial console text that means success. */
  readonly expect: RegExp
  readonly timeoutMs: number
  readonly memoryMiB?: number
}

/** What the virtual machine printed on its serial console, and whether `expect` appeared. */
export interface VmBootResult {
  readonly reached: boolean
  readonly console: string
  readonly accel: 'kvm' | 'tcg'
  readonly seconds: number
}

/** Why a disk cannot be booted here, or undefined when qemu (and OVMF for UEFI) are installed. */
export function vmUnavailable(firmware: 'uefi' | 'bios'): string | undefined {
  if (!['/usr/bin/qemu-system-x86_64', '/usr/local/bin/qemu-system-x86_64'].some((p) => existsSync(p))) return 'qemu-system-x86_64 is not installed'
  if (firmware === 'uefi' && !OVMF.some((f) => existsSync(f.code))) return 'OVMF is not installed'
  return undefined
}

/**
 * Boots a raw disk (a loop device or an image file) in qemu without network, under software emulation (TCG), and
 * reads its serial console until `expect` appears or the time is up. The disk is opened with snapshot=on: the boot
 * writes nothing to it. XCAT_TEST_QEMU_ACCEL=kvm uses KVM instead: the nested KVM of our machines stops OVMF with
 * an emulation failure and stalls in grub's BIOS loader, so it is not the default.
 */
export async function bootDisk(disk: string, options: VmBootOptions): Promise<VmBootResult> {
  const accel = process.env.XCAT_TEST_QEMU_ACCEL === 'kvm' && existsSync('/dev/kvm') ? 'kvm' : 'tcg'
  const work = mkdtempSync(join(tmpdir(), 'xst-vm-'))
  const args = ['-accel', accel, '-m', String(options.memoryMiB ?? 1024), '-smp', '1', '-nographic', '-no-reboot', '-nic', 'none', '-serial', 'stdio', '-monitor', 'none']
  args.push('-drive', `file=${disk},format=raw,if=virtio,snapshot=on`)
  if (options.firmware === 'uefi') {
    const fw = OVMF.find((f) => existsSync(f.code))
    if (!fw) throw new Error('OVMF is not installed')
    const vars = join(work, 'vars.fd')
    copyFileSync(fw.vars, vars)
    args.push('-drive', `if=pflash,format=raw,readonly=on,file=${fw.code}`, '-drive', `if=pflash,format=raw,file=${vars}`)
  }
  const started = Date.now()
  const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let text = ''
  try {
    const reached = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), options.timeoutMs)
      const seen = (d: Buffer) => {
        text += d.toString('latin1')
        if (options.expect.test(text)) {
          clearTimeout(timer)
          resolve(true)
        }
      }
      child.stdout.on('data', seen)
      child.stderr.on('data', seen)
      child.once('exit', () => {
        clearTimeout(timer)
        resolve(options.expect.test(text))
      })
    })
    return { reached, console: text, accel, seconds: (Date.now() - started) / 1000 }
  } finally {
    child.kill('SIGKILL')
    rmSync(work, { recursive: true, force: true })
  }
}
