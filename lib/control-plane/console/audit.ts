// The audit log for the console: filterable, newest first, paged by id.
import "server-only";
import { listAudit } from "../audit/audit";
import { auditQuery } from "./contracts";
import { consoleHandler } from "./handler";

// GET /api/console/audit?action=&actor=&targetType=&targetId=&before=&limit=
export const listAuditEntries = consoleHandler({ scope: "audit.read", query: auditQuery }, ({ prisma, query }) =>
  listAudit(prisma, query),
);
