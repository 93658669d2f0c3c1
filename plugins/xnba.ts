import { bootLoaderPlugin } from '../lib/boot/nodeset.js'

/** xCAT's xnba plugin: nodeset writes xNBA (iPXE) scripts, with UEFI and elilo variants. */
export default bootLoaderPlugin('xnba', 'noderes:netboot')
