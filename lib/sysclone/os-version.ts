/** Parses os-release(5) text into its keys (quotes removed). */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim())
    if (m?.[1]) out[m[1]] = (m[2] ?? '').replace(/^(["'])(.*)\1$/, '$2')
  }
  return out
}

/** os-release ID to xCAT's os name prefix. */
const PREFIX: Readonly<Record<string, string>> = {
  rhel: 'rhels',
  centos: 'centos',
  almalinux: 'alma',
  rocky: 'rocky',
  ol: 'ol',
  fedora: 'fedora',
  sles: 'sles',
  sled: 'sles',
  'opensuse-leap': 'leap',
  ubuntu: 'ubuntu',
  debian: 'debian',
}

/** The release files of distributions older than os-release, first line checked in this order. */
const RELEASE_FILES: readonly [RegExp, string][] = [
  [/SUSE Linux Enterprise|SLES/, 'sles'],
  [/Red Hat Enterprise Linux/, 'rhels'],
  [/CentOS/, 'centos'],
  [/AlmaLinux|Alma Linux/, 'alma'],
  [/Rocky/, 'rocky'],
  [/Oracle Linux/, 'ol'],
  [/Fedora/, 'fedora'],
]

/**
 * xCAT's osvers for a golden client (rhels9.4, sles15.5, ubuntu22.04, debian12 ...): from /etc/os-release, else from
 * the first line of the distribution's release file; '' when neither tells.
 */
export function osVersion(osRelease: string | undefined, releaseFile?: string): string {
  if (osRelease) {
    const rel = parseOsRelease(osRelease)
    const id = rel.ID ?? ''
    const prefix = PREFIX[id] ?? PREFIX[(rel.ID_LIKE ?? '').split(' ')[0] ?? ''] ?? id
    const version = (rel.VERSION_ID ?? '').replace(/-SP/i, '.')
    if (prefix && version) return `${prefix}${version}`
  }
  const first = (releaseFile ?? '').split('\n')[0] ?? ''
  for (const [re, prefix] of RELEASE_FILES) {
    if (!re.test(first)) continue
    if (prefix === 'sles') {
      const major = /(\d+)/.exec(first)?.[1] ?? ''
      const patch = /PATCHLEVEL\s*=\s*(\d+)/.exec(releaseFile ?? '')?.[1]
      return `sles${major}${patch ? `.${patch}` : ''}`
    }
    const version = /([0-9][0-9.]*)/.exec(first)?.[1]
    return version ? `${prefix}${version}` : ''
  }
  return ''
}
