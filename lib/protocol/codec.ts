import type { XcatRequest, XcatResponse } from './types.js'
import { asciiOnly, parseXml, toXml, XmlFormatError, type XmlTree } from './xml.js'

/** A request as xCAT's client writes it (XMLout with RootName xcatrequest). */
export function encodeRequest(request: XcatRequest): string {
  return toXml('xcatrequest', request as unknown as XmlTree)
}

/** Parses one `<xcatrequest>` document; a request without a command is invalid, except the client's `abortcommand`. */
export async function decodeRequest(xml: string): Promise<XcatRequest> {
  const tree = await parseXml(xml, 'xcatrequest')
  if (tree.abortcommand !== undefined) return { command: [], ...tree } as unknown as XcatRequest
  const command = tree.command
  if (!Array.isArray(command) || typeof command[0] !== 'string' || command[0] === '') throw new XmlFormatError('the request has no command')
  return tree as unknown as XcatRequest
}

/**
 * Responses as xcatd writes them: one `<xcatresponse>` per response, concatenated without a wrapper, `xcatdsource`
 * added to every response but the one that ends the request (a response relayed from a service node keeps its own),
 * characters outside TAB..DEL replaced by '?'.
 */
export function encodeResponses(responses: readonly XcatResponse[], source?: string): string {
  return asciiOnly(
    responses
      .map((r) => toXml('xcatresponse', (source && r.serverdone === undefined && r.xcatdsource === undefined ? { ...r, xcatdsource: [source] } : r) as unknown as XmlTree))
      .join(''),
  )
}

/** Parses one `<xcatresponse>` document. */
export async function decodeResponse(xml: string): Promise<XcatResponse> {
  return (await parseXml(xml, 'xcatresponse')) as unknown as XcatResponse
}

/** The response that ends a request (with the request's transid when it had one). */
export function serverDone(request?: XcatRequest): XcatResponse {
  const transid = request?.transid
  return Array.isArray(transid) && transid[0] !== undefined ? { serverdone: [null], transid: [transid[0]] } : { serverdone: [null] }
}
