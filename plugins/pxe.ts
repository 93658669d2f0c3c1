import { bootLoaderPlugin } from '../lib/boot/nodeset.js'

/** xCAT's pxe plugin: nodeset writes pxelinux configurations. */
export default bootLoaderPlugin('pxe', 'noderes:netboot')
