import { mksyscloneHandler } from '../lib/sysclone/mksysclone.js'

/** xCAT's sles plugin, its sysclone part: mksysclone for SUSE nodes (SLES, openSUSE Leap). */
export default mksyscloneHandler('sles', '(sle.*)|(suse.*)|(leap15.*)')
