import { expect } from 'chai'
import type { CommandResult } from '../../helpers/run-command.js'
import { must, type TestHost } from './test-hosts.js'

/** A listing of a tree precise enough to notice any change: path, type, mode, owner, size, mtime, inode, target, content hash, xattrs. */
export async function manifest(dir: string): Promise<string> {
  const list = await must('find', [dir, '-printf', '%P|%y|%m|%U:%G|%s|%T@|%i|%l\n'])
  const sums = await must('sh', ['-c', 'cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum', 'sh', dir])
  const attrs = await must('getfattr', ['-R', '-P', '-h', '-d', '-m', '-', '--absolute-names', dir])
  return `${list.split('\n').sort().join('\n')}\n${sums}\n${attrs}`
}

/** Cuts the golden client's network under a running capture and checks that the capture fails as it should. */
export async function cutMidway(golden: TestHost, image: string, running: Promise<CommandResult>): Promise<void> {
  await golden.cutNetwork()
  try {
    const res = await running
    expect(res.code).to.equal(1)
    expect(res.stderr).to.match(new RegExp(`Can not get image ${image} from ${golden.name}: .*The previous image, if any, is unchanged\\.`))
  } finally {
    await golden.restoreNetwork()
  }
}

/** Points the management node's commands at a system config directory and an ssh key; returns what puts them back. */
export function useMnEnvironment(sysconfdir: string, identity: string): () => void {
  const saved = { XCAT_SYSCONFDIR: process.env.XCAT_SYSCONFDIR, XCAT_SSH_IDENTITY: process.env.XCAT_SSH_IDENTITY }
  process.env.XCAT_SYSCONFDIR = sysconfdir
  process.env.XCAT_SSH_IDENTITY = identity
  return () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  }
}
