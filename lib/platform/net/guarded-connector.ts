// An undici connector that applies the address policy in each new connection's DNS lookup, so
// a host name that resolves elsewhere later (DNS rebinding) is refused at connect time too. A
// kept-alive connection pays nothing more per request. IP literals never reach a lookup, so they
// are checked before connecting.
import type { LookupAddress } from "node:dns";
import type { LookupFunction } from "node:net";
import { isIP } from "node:net";
import { buildConnector } from "undici";
import { type AddressPolicy, assertAddressAllowed, resolveAllowed } from "./address-policy";

function guardedLookup(policy: AddressPolicy): LookupFunction {
  return (hostname, options, callback) => {
    resolveAllowed(policy, hostname).then(
      (all) => {
        const wanted = options.family === 4 || options.family === 6 ? all.filter((a) => a.family === options.family) : all;
        if (wanted.length === 0)
          return callback(
            Object.assign(new Error(`${hostname} has no address of the requested family`), { code: "ENOTFOUND" }),
            "",
            0,
          );
        if (options.all) return (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, wanted);
        callback(null, wanted[0]!.address, wanted[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, "", 0),
    );
  };
}

export function guardedConnector(policy: AddressPolicy, options: buildConnector.BuildOptions = {}): buildConnector.connector {
  const connect = buildConnector({ ...options, lookup: guardedLookup(policy) });
  return (connectOptions, callback) => {
    if (isIP(connectOptions.hostname)) {
      try {
        assertAddressAllowed(policy, connectOptions.hostname);
      } catch (error) {
        return callback(error as Error, null);
      }
    }
    connect(connectOptions, callback);
  };
}
