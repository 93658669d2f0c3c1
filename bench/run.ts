import { benchClone } from './clone.js'
import { benchImgcapture } from './imgcapture.js'
import { benchNodeset } from './nodeset.js'
import { benchTableAttribs } from './table-attribs.js'
import { benchXcatdRequests } from './xcatd-requests.js'

const BENCHES: Record<string, () => Promise<void>> = { 'table-attribs': benchTableAttribs, 'xcatd-requests': benchXcatdRequests, imgcapture: benchImgcapture, nodeset: benchNodeset, clone: benchClone }

const only = process.argv.slice(2)
for (const [name, bench] of Object.entries(BENCHES)) {
  if (only.length && !only.includes(name)) continue
  await bench()
  console.log('')
}
