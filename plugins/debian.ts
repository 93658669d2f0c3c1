import { mksyscloneHandler } from '../lib/sysclone/mksysclone.js'

/** xCAT's debian plugin, its sysclone part: mksysclone for Debian and Ubuntu nodes. */
export default mksyscloneHandler('debian', '(ubuntu.*)|(debian.*)')
