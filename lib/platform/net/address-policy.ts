// Which addresses the gateway may connect to on an operator's say-so (provider base URLs, alert
// webhooks, the provider test). Link-local and cloud metadata addresses are always refused: a
// base URL must not turn the gateway into a reader of its host's instance credentials. Loopback
// and private ranges are allowed (self-hosted models live there) unless UPSTREAM_DENY_PRIVATE.
// Checked on resolved addresses, at save time and in every new connection's DNS lookup.
import { lookup as dnsLookup } from "node:dns/promises";
import type { LookupAddress } from "node:dns";
import { BlockList, isIP } from "node:net";
import { getConfig } from "../config";

function blockList(ranges: Array<[string, number, "ipv4" | "ipv6"]>): BlockList {
  const list = new BlockList();
  for (const [network, prefix, family] of ranges) list.addSubnet(network, prefix, family);
  return list;
}

// BlockList also matches IPv4 rules against IPv4-mapped IPv6 addresses (::ffff:169.254.169.254).
const ALWAYS_REFUSED = blockList([
  ["169.254.0.0", 16, "ipv4"], // link-local, AWS/GCP/Azure metadata at 169.254.169.254
  ["0.0.0.0", 8, "ipv4"], // "this host": 0.0.0.0 reaches local listeners
  ["fe80::", 10, "ipv6"], // link-local
  ["fd00:ec2::254", 128, "ipv6"], // AWS metadata over IPv6
  ["::", 128, "ipv6"], // unspecified
  ["64:ff9b::a9fe:0", 112, "ipv6"], // NAT64 form of 169.254.0.0/16
]);

const PRIVATE = blockList([
  ["127.0.0.0", 8, "ipv4"],
  ["10.0.0.0", 8, "ipv4"],
  ["172.16.0.0", 12, "ipv4"],
  ["192.168.0.0", 16, "ipv4"],
  ["100.64.0.0", 10, "ipv4"], // carrier-grade NAT, also used inside clouds
  ["::1", 128, "ipv6"],
  ["fc00::", 7, "ipv6"], // unique local
]);

export type AddressClass = "forbidden" | "private" | "public";

export function classifyAddress(address: string): AddressClass {
  const ip = address.split("%")[0]!; // an IPv6 zone id
  const family = isIP(ip) === 6 ? "ipv6" : "ipv4";
  if (ALWAYS_REFUSED.check(ip, family)) return "forbidden";
  if (PRIVATE.check(ip, family)) return "private";
  return "public";
}

export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export interface AddressPolicy {
  /** Refuse loopback and private ranges too. */
  denyPrivate: boolean;
  /** Resolves a host name to every address it has (the system's resolver; tests inject a stand-in). */
  resolve: Resolver;
}

/** Stable code on the error, so callers can tell a refusal from a failed connection. */
export const ADDRESS_REFUSED_CODE = "EUPSTREAMADDRESSREFUSED";

export class AddressRefused extends Error {
  override name = "AddressRefused";
  readonly code = ADDRESS_REFUSED_CODE;
  constructor(
    readonly host: string,
    readonly addressClass: Exclude<AddressClass, "public">,
  ) {
    super(
      addressClass === "forbidden"
        ? `${host} is a link-local or cloud metadata address, which upstreams may not use`
        : `${host} is a loopback or private address, which UPSTREAM_DENY_PRIVATE refuses`,
    );
  }
}

export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** The policy from configuration, with the system's resolver. */
export function upstreamAddressPolicy(): AddressPolicy {
  return { denyPrivate: getConfig().UPSTREAM_DENY_PRIVATE, resolve: systemResolver };
}

/** Throws AddressRefused when the policy refuses this address; `host` names it in the message. */
export function assertAddressAllowed(policy: AddressPolicy, address: string, host = address): void {
  const addressClass = classifyAddress(address);
  if (addressClass === "forbidden" || (addressClass === "private" && policy.denyPrivate))
    throw new AddressRefused(host, addressClass);
}

/** A URL's host without IPv6 brackets. */
export function urlHost(url: URL): string {
  return url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
}

/**
 * Every address a host name resolves to must be allowed: one refused address refuses the name
 * (otherwise a rebinding answer could mix one in).
 */
export async function resolveAllowed(policy: AddressPolicy, host: string): Promise<LookupAddress[]> {
  if (isIP(host)) {
    assertAddressAllowed(policy, host);
    return [{ address: host, family: isIP(host) }];
  }
  const addresses = await policy.resolve(host);
  for (const { address } of addresses) assertAddressAllowed(policy, address, `${host} (${address})`);
  return addresses;
}
