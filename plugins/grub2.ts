import { bootLoaderPlugin } from '../lib/boot/nodeset.js'

/** xCAT's grub2 plugin: nodeset writes GRUB 2 network boot configurations. */
export default bootLoaderPlugin('grub2', 'noderes:netboot=(grub2[-]?.*)')
