import { bootLoaderPlugin } from '../lib/boot/nodeset.js'

/** xCAT's petitboot plugin: nodeset writes petitboot configurations. */
export default bootLoaderPlugin('petitboot', 'noderes:netboot')
