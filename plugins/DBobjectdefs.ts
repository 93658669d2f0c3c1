import { lsdef } from '../lib/defcmds/lsdef.js'
import { rmdef } from '../lib/defcmds/rmdef.js'
import { setdefs } from '../lib/defcmds/setdefs.js'
import { first } from '../lib/protocol/types.js'
import type { XcatPlugin } from '../lib/server/plugin.js'

/** xCAT's DBobjectdefs plugin: lsdef, mkdef, chdef and rmdef over the object definitions. */
const plugin: XcatPlugin = {
  name: 'DBobjectdefs',
  handledCommands: () => ({ lsdef: 'DBobjectdefs', mkdef: 'DBobjectdefs', chdef: 'DBobjectdefs', rmdef: 'DBobjectdefs' }),
  async processRequest(req, ctx) {
    const command = first(req.command)
    if (command === 'lsdef') await lsdef(req, ctx)
    else if (command === 'rmdef') await rmdef(req, ctx)
    else if (command === 'mkdef' || command === 'chdef') await setdefs(command, req, ctx)
  },
}

export default plugin
