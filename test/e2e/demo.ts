/**
 * `npm run demo`: a golden client and two target nodes in network namespaces with loop disks; imgcapture, nodeset
 * and both targets cloned at once through a real xcatd; a table of the results; everything removed at the end.
 * `npm run demo -- --boot` also boots each clone in qemu (UEFI, then BIOS) until its login prompt.
 */
import { performance } from 'node:perf_hooks'
import { startLab, type Lab } from './helpers/lab.js'
import { bootDisk, vmUnavailable } from './helpers/qemu.js'

const boot = process.argv.includes('--boot')
const started = performance.now()
const say = (text: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${text}`)

/** Runs an xCAT command of the demo, echoing it and its output; throws when it fails. */
async function xcat(lab: Lab, command: string, argv: readonly string[]): Promise<void> {
  say(`# ${command} ${argv.join(' ')}`)
  const res = await lab.run(command, argv)
  for (const line of `${res.stdout}${res.stderr}`.split('\n').filter(Boolean)) console.log(`           ${line}`)
  if (res.code !== 0) throw new Error(`${command} failed with exit code ${res.code}`)
}

async function demo(): Promise<number> {
  say('building the golden client golden1 (Debian 12 with a kernel and grub for BIOS and UEFI) and the blank target nodes target1 and target2')
  const lab = await startLab({
    golden: { sizeMiB: 2048 },
    targets: [{ name: 'target1', sizeMiB: 2048 }, { name: 'target2', sizeMiB: 3072 }],
  })
  const interrupted = () => void lab.close().finally(() => process.exit(130))
  process.once('SIGINT', interrupted)
  process.once('SIGTERM', interrupted)
  try {
    say(`golden1 ${lab.golden.ip} (${lab.golden.disk?.dev}); ${lab.targets.map((t) => `${t.host.name} ${t.host.ip} (${t.disk}, blank)`).join('; ')}`)
    await xcat(lab, 'imgcapture', ['golden1', '-t', 'sysclone', '-o', 'img1'])
    await xcat(lab, 'nodeset', ['target1,target2', 'osimage=img1'])
    say('network-booting target1 and target2 into the installer: both clone img1 at once')
    const rows = await Promise.all(lab.targets.map(async (t) => {
      const res = await lab.install(t)
      const failed = /sysclone: FATAL: step (\S+) failed/.exec(res.stdout)?.[1]
      const state = await lab.currstate(t.host.name, 'boot', res.code === 0 ? 10_000 : 0)
      say(`${t.host.name}: installer finished in ${res.seconds.toFixed(1)} s, ${res.code === 0 ? 'image installed' : `failed in step ${failed ?? '?'}`}; chain.currstate is now "${state}"`)
      if (res.code !== 0) console.log(res.stdout.split('\n').slice(-30).join('\n'))
      return { node: t.host.name, disk: t.disk, seconds: res.seconds, result: res.code === 0 ? 'installed' : `failed:${failed ?? '?'}`, boot: '' }
    }))
    if (boot) {
      for (const [i, row] of rows.entries()) {
        const firmware = i % 2 === 0 ? 'uefi' : 'bios'
        const why = vmUnavailable(firmware)
        if (row.result !== 'installed' || why !== undefined) {
          row.boot = why ?? 'not booted'
          continue
        }
        say(`booting ${row.node}'s disk in qemu (${firmware}) until its login prompt`)
        const vm = await bootDisk(row.disk, { firmware, expect: new RegExp(`${row.node} login:`), timeoutMs: 600_000 })
        row.boot = vm.reached ? `${firmware}: login prompt in ${vm.seconds.toFixed(0)} s (${vm.accel})` : `${firmware}: no login prompt`
      }
    }
    console.log('')
    const header = ['node', 'disk', 'time', 'result', ...(boot ? ['boot'] : [])]
    const table = [header, ...rows.map((r) => [r.node, r.disk, `${r.seconds.toFixed(1)} s`, r.result, ...(boot ? [r.boot] : [])])]
    const widths = header.map((_, c) => Math.max(...table.map((r) => r[c]!.length)))
    for (const r of table) console.log(r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd())
    console.log('')
    return rows.every((r) => r.result === 'installed' && (!boot || r.boot.includes('login prompt'))) ? 0 : 1
  } finally {
    say('removing the hosts, disks, database and daemon')
    await lab.close()
    process.off('SIGINT', interrupted)
    process.off('SIGTERM', interrupted)
  }
}

process.exitCode = await demo().catch((e: unknown) => {
  console.error(`demo failed: ${e instanceof Error ? e.message : String(e)}`)
  return 1
})
