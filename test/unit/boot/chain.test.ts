import { expect } from 'chai'
import { advanceChain } from '../../../lib/boot/chain.js'

describe('chain advance (nextdestiny)', () => {
  it('moves to the next item and keeps the last one sticky', () => {
    expect(advanceChain({ currstate: 'sysclone rhels9.4-x86_64', currchain: 'boot' })).to.deep.equal({ currstate: 'boot', currchain: 'boot', standby: false })
    expect(advanceChain({ currstate: 'shell', currchain: 'runcmd=bmcsetup,osimage=img1,boot' })).to.deep.equal({ currstate: 'runcmd=bmcsetup', currchain: 'osimage=img1,boot', standby: false })
    expect(advanceChain({ currstate: 'x', currchain: 'a;b' })).to.deep.equal({ currstate: 'a', currchain: 'b', standby: false })
  })

  it('starts from chain.chain when there is no current chain', () => {
    expect(advanceChain({ chain: 'runcmd=bmcsetup,shell' })).to.deep.equal({ currstate: 'runcmd=bmcsetup', currchain: 'shell', standby: false })
  })

  it('turns a finished single-item chain into standby, except boot', () => {
    expect(advanceChain({ currstate: 'shell', currchain: 'shell' })).to.deep.equal({ currstate: 'standby', currchain: 'standby', standby: true })
    expect(advanceChain({ currstate: 'boot', currchain: 'boot' })).to.deep.equal({ currstate: 'boot', currchain: 'boot', standby: true })
  })

  it('has nothing to do without any chain', () => {
    expect(advanceChain({ currstate: 'boot' })).to.equal(undefined)
  })
})
