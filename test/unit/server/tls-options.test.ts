import { expect } from 'chai'
import { tlsVersions } from '../../../lib/server/tls-options.js'

describe('TLS protocol versions from the site table', () => {
  const cases: [string | undefined, string | undefined, { minVersion: string; maxVersion?: string }][] = [
    [undefined, undefined, { minVersion: 'TLSv1.2' }],
    ['modern', '', { minVersion: 'TLSv1.2' }],
    ['legacy', '', { minVersion: 'TLSv1.2' }],
    [undefined, 'SSLv23:!SSLv2:!SSLv3:!TLSv1:!TLSv1_1', { minVersion: 'TLSv1.2' }],
    [undefined, 'SSLv23:!SSLv2:!SSLv3:!TLSv1:!TLSv1_1:!TLSv1_2', { minVersion: 'TLSv1.3' }],
    [undefined, 'TLSv1_3', { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' }],
    [undefined, 'TLSv1', { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' }],
  ]
  for (const [tlspolicy, sslversion, expected] of cases) {
    it(`xcattlspolicy=${tlspolicy} xcatsslversion=${sslversion}`, () => {
      expect(tlsVersions({ confdir: '/x', tlspolicy, sslversion })).to.deep.equal(expected)
    })
  }
})
