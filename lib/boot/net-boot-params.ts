const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/

/** The NIC parameters of xCAT's gen_net_boot_params. */
export interface NetBootParams {
  ksdevice?: string
  BOOTIF?: string
}

/** xCAT's gen_net_boot_params: from noderes.installnic (else primarynic) and the node's MAC. */
export function netBootParams(installnic: string | undefined, primarynic: string | undefined, mac: string | undefined): NetBootParams {
  const nic = installnic || primarynic
  if (!nic || /^mac$/i.test(nic)) return mac ? { ksdevice: `ksdevice=${mac}`, BOOTIF: `BOOTIF=${mac}` } : {}
  if (MAC.test(nic)) return { ksdevice: `ksdevice=${nic}`, BOOTIF: `BOOTIF=${nic}` }
  return { ksdevice: `ksdevice=${nic}` }
}
