// The client address sign-in throttling counts by. Fastify derives it (request.ip: the socket's
// peer, or X-Forwarded-For only through TRUSTED_PROXIES) and the hand-off to Next.js passes it in
// a header of ours, overwriting whatever a client sent under that name: next-auth sees no socket.
import { isIPv6 } from "node:net";

export const CLIENT_ADDRESS_HEADER = "x-agenticorp-client-address";

/** When the header is missing (Next.js reached without the Fastify hand-off): all such callers share one counter. */
const UNKNOWN_CLIENT_ADDRESS = "unknown";

const MAPPED_IPV4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

function expandIPv6(address: string): string[] {
  const [head = "", tail] = address.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill("0");
  return [...left, ...zeros, ...right];
}

/**
 * An IPv4-mapped address counts as its IPv4 address; an IPv6 address as its /64, the block one
 * subscriber usually holds (counting single IPv6 addresses would give one machine 2^64 budgets).
 */
export function throttleAddress(ip: string): string {
  const mapped = MAPPED_IPV4.exec(ip);
  if (mapped) return mapped[1]!;
  if (!isIPv6(ip)) return ip;
  const groups = expandIPv6(ip.split("%")[0]!);
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(":")}::/64`;
}

export function clientAddressFromHeaders(headers: Headers): string {
  return headers.get(CLIENT_ADDRESS_HEADER) ?? UNKNOWN_CLIENT_ADDRESS;
}
