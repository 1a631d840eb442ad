// The console's first page: the instance registry, read through Prisma. It proves the wiring
// (Fastify hands this request to Next.js, which reads PostgreSQL through the shared pool).
import { connection } from "next/server";
import { getDatabase } from "@/lib/db/client";
import { listInstances } from "@/lib/cluster/registry";

export default async function InstancesPage() {
  await connection();
  const instances = await listInstances(getDatabase().prisma);
  return (
    <main>
      <h1>AgentiCorp</h1>
      <h2>Instances ({instances.length})</h2>
      {instances.length === 0 ? (
        <p>No instance has registered yet.</p>
      ) : (
        <table aria-label="Instances">
          <thead>
            <tr>
              <th scope="col">Instance</th>
              <th scope="col">Address</th>
              <th scope="col">Version</th>
              <th scope="col">Status</th>
              <th scope="col">Started</th>
              <th scope="col">Last heartbeat</th>
            </tr>
          </thead>
          <tbody>
            {instances.map((instance) => (
              <tr key={instance.id} data-instance-id={instance.id}>
                <td>{instance.id}</td>
                <td>{instance.host}:{instance.port}</td>
                <td>{instance.version}</td>
                <td className={`status-${instance.status}`}>{instance.status}</td>
                <td>{instance.startedAt.toISOString()}</td>
                <td>{instance.lastSeenAt.toISOString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
