import { RequireScope } from "@/components/console/require-scope";
import { UsersView } from "@/components/console/users";

export default function UsersPage() {
  return (
    <RequireScope scope="users.read">
      <UsersView />
    </RequireScope>
  );
}
