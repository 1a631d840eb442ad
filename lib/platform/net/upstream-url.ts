// Save-time check of a URL the gateway will call (provider base URL, alert webhook): a clear 400
// naming the field when its host is, or resolves to, an address the policy refuses. A host that
// does not resolve right now is accepted: every connection is checked again when it is made.
import { BadRequestError } from "../errors";
import { type AddressPolicy, AddressRefused, resolveAllowed, upstreamAddressPolicy, urlHost } from "./address-policy";

const RESOLVE_TIMEOUT_MS = 3_000;

export async function assertUpstreamUrlAllowed(
  url: string,
  param: string,
  policy: AddressPolicy = upstreamAddressPolicy(),
): Promise<void> {
  const host = urlHost(new URL(url));
  let timer: NodeJS.Timeout | undefined;
  const giveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, RESOLVE_TIMEOUT_MS)));
  try {
    await Promise.race([resolveAllowed(policy, host), giveUp]);
  } catch (error) {
    if (error instanceof AddressRefused)
      throw new BadRequestError(`${param}: ${error.message}.`, { param, code: "upstream_address_refused" });
    // Not resolvable now (NXDOMAIN, no network): accepted, and refused at connect time if need be.
  } finally {
    clearTimeout(timer);
  }
}
