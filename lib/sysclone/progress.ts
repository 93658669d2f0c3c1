import type { XcatResponse } from '../protocol/types.js'
import type { TransferProgress } from './rsync-pull.js'

/** Bytes as people read them (binary units). */
export function humanBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = bytes
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`
}

function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  return `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`
}

/** The one-line form of a transfer's progress. */
export function progressText(p: TransferProgress): string {
  return `${p.percent}% ${humanBytes(p.bytes)}, ${p.files} files, ${humanBytes(p.rate)}/s, ${clock(p.etaSeconds)} left`
}

/**
 * A progress response: `sinfo` for xCAT's client (printed with a carriage return), and the figures in `progress` for
 * ours, which draws a bar on a terminal and prints plain lines otherwise.
 */
export function progressResponse(p: TransferProgress): XcatResponse {
  return {
    sinfo: [progressText(p)],
    progress: [{ bytes: [String(p.bytes)], percent: [String(p.percent)], rate: [String(Math.round(p.rate))], eta: [String(p.etaSeconds)], files: [String(p.files)] }],
  }
}
