import { mksyscloneHandler } from '../lib/sysclone/mksysclone.js'

/** xCAT's anaconda plugin, its sysclone part: mksysclone for RHEL-family nodes (RHEL, CentOS, Rocky, Alma, Oracle Linux, Fedora, Scientific Linux). */
export default mksyscloneHandler('anaconda', '(esxi4.1)|(esx[34].*)|(^ol[0-9].*)|(centos.*)|(alma.*)|(rocky.*)|(rh(?!evh).*)|(fedora.*)|(SL.*)')
