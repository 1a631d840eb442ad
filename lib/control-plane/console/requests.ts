// The request log in the console: search (operators and admins), one request by its x-request-id
// (captured bodies only for requests.bodies), and the sampling settings (admins change them).
import { hasScope } from "../auth/permissions";
import { getConfig } from "../../platform/config";
import { listRequestLog, readRequestLogSettings, requestLogByRequestId, saveRequestLogSettings } from "../requests/store";
import { actorOf, consoleHandler } from "./handler";
import { requestIdParams, requestLogQuery, updateRequestLogSettingsInput } from "./request-log-contracts";

// GET /api/console/requests?keyId=&model=&status=&from=&to=&before=&limit= — newest first, never bodies.
export const listRequests = consoleHandler({ scope: "requests.read", query: requestLogQuery }, ({ prisma, query }) =>
  listRequestLog(prisma, query),
);

// GET /api/console/requests/:requestId — what happened to the request a client names by its x-request-id.
export const getRequest = consoleHandler({ scope: "requests.read", params: requestIdParams }, ({ prisma, params, session }) =>
  requestLogByRequestId(prisma, params.requestId, hasScope(session.role, "requests.bodies")),
);

// GET /api/console/requests/settings — the sampling in force, what admins set, the environment's defaults.
export const getRequestLogSettings = consoleHandler({ scope: "requests.read" }, ({ prisma }) =>
  readRequestLogSettings(prisma, getConfig()),
);

// PUT /api/console/requests/settings — audited; every instance follows within about a second.
export const putRequestLogSettings = consoleHandler(
  { scope: "requests.write", body: updateRequestLogSettingsInput },
  ({ prisma, body, session }) => saveRequestLogSettings(prisma, body, actorOf(session), getConfig()),
);
