import { expect } from 'chai'
import { osVersion, parseOsRelease } from '../../../lib/sysclone/os-version.js'

const release = (id: string, version: string, like = '') => `NAME="x"\nID=${id}\nVERSION_ID="${version}"\n${like ? `ID_LIKE="${like}"\n` : ''}`

describe('golden client os version (xCAT osvers)', () => {
  const cases: [string, string][] = [
    [release('rhel', '9.4', 'fedora'), 'rhels9.4'],
    [release('centos', '7'), 'centos7'],
    [release('almalinux', '9.4'), 'alma9.4'],
    [release('rocky', '8.10'), 'rocky8.10'],
    [release('ol', '9.3'), 'ol9.3'],
    [release('fedora', '40'), 'fedora40'],
    [release('sles', '15-SP5'), 'sles15.5'],
    [release('sles', '15.5'), 'sles15.5'],
    [release('opensuse-leap', '15.5'), 'leap15.5'],
    [release('ubuntu', '22.04', 'debian'), 'ubuntu22.04'],
    [release('debian', '12'), 'debian12'],
    [release('mydistro', '3', 'rhel fedora'), 'rhels3'],
  ]
  for (const [text, expected] of cases) {
    it(`${text.split('\n')[1]} ${text.split('\n')[2]} → ${expected}`, () => expect(osVersion(text)).to.equal(expected))
  }

  it('falls back to the release files of older systems', () => {
    expect(osVersion(undefined, 'Red Hat Enterprise Linux Server release 6.10 (Santiago)\n')).to.equal('rhels6.10')
    expect(osVersion(undefined, 'CentOS release 5.11 (Final)\n')).to.equal('centos5.11')
    expect(osVersion(undefined, 'SUSE Linux Enterprise Server 11 (x86_64)\nVERSION = 11\nPATCHLEVEL = 4\n')).to.equal('sles11.4')
    expect(osVersion(undefined, 'something else\n')).to.equal('')
  })

  it('reads quoted and unquoted os-release values', () => {
    expect(parseOsRelease('ID=debian\nPRETTY_NAME="Debian GNU/Linux 12"\nX=\'q\'\n')).to.deep.equal({ ID: 'debian', PRETTY_NAME: 'Debian GNU/Linux 12', X: 'q' })
  })
})
