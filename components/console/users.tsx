"use client";
// Console users (admins): create with an initial password, change role, disable (after a
// confirmation) or enable, reset another user's password (the new one shown once, here only).
import { useId, useState, type FormEvent } from "react";
import { ROLES, type Role } from "@/lib/control-plane/auth/permissions";
import type { UserDto } from "@/lib/control-plane/console/contracts";
import { useCreateUser, useResetPassword, useUpdateUser, useUsers } from "@/components/console/hooks/console";
import { ConfirmButton } from "./confirm-button";
import { CopyButton } from "./copy-button";
import { Panel } from "./panel";
import { useSessionView } from "./session-context";
import { FormError } from "./form-error";
import { DataTable } from "./data-table";

function CreateUserForm() {
  const create = useCreateUser();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("operator");
  const [password, setPassword] = useState("");
  const ids = { email: useId(), role: useId(), password: useId() };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ email, role, password }, { onSuccess: () => (setEmail(""), setPassword("")) });
  };
  return (
    <Panel title="Add a user" testId="panel-create-user">
      <form className="form-row" onSubmit={onSubmit} aria-label="Add a user">
        <div className="field grow">
          <label htmlFor={ids.email}>Email</label>
          <input
            id={ids.email}
            type="email"
            autoComplete="off"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            required
          />
        </div>
        <div className="field">
          <label htmlFor={ids.role}>Role</label>
          <select id={ids.role} value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.password}>Initial password (12+ characters)</label>
          <input
            id={ids.password}
            type="password"
            autoComplete="new-password"
            minLength={12}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </div>
        <button type="submit" className="button" disabled={create.isPending}>
          {create.isPending ? "Adding…" : "Add user"}
        </button>
      </form>
      <FormError error={create.error} />
      {create.data ? <p role="status">Added {create.data.user.email}. Hand over the password privately.</p> : null}
    </Panel>
  );
}

function UserRow({ user, self }: { user: UserDto; self: boolean }) {
  const update = useUpdateUser();
  const roleId = useId();
  // Applied with a button, not on change: arrowing through a closed select must not change roles.
  const [role, setRole] = useState<Role>(user.role);
  return (
    <tr data-user-email={user.email}>
      <td>
        {user.email}
        {self ? <span className="muted"> (you)</span> : null}
      </td>
      <td>
        <label htmlFor={roleId} className="visually-hidden">
          Role of {user.email}
        </label>
        <span className="inline-actions">
          <select id={roleId} value={role} disabled={update.isPending} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
          {role !== user.role ? (
            <button
              type="button"
              className="button secondary"
              disabled={update.isPending}
              onClick={() => update.mutate({ id: user.id, change: { role } }, { onError: () => setRole(user.role) })}
            >
              Save role
            </button>
          ) : null}
        </span>
      </td>
      <td className={user.disabledAt ? "status-dead" : "status-healthy"}>{user.disabledAt ? "disabled" : "active"}</td>
      <td>{new Date(user.createdAt).toLocaleDateString()}</td>
      <td>
        {self ? null : (
          <span className="inline-actions">
            {user.disabledAt ? (
              <button
                type="button"
                className="button secondary"
                disabled={update.isPending}
                onClick={() => update.mutate({ id: user.id, change: { disabled: false } })}
              >
                {`Enable ${user.email}`}
              </button>
            ) : (
              <ConfirmButton
                title={`Disable ${user.email}?`}
                message={
                  <p>They are signed out at their next request and cannot sign in until an admin enables the account again.</p>
                }
                confirmText="Disable"
                danger
                disabled={update.isPending}
                onConfirm={() => update.mutate({ id: user.id, change: { disabled: true } })}
              >
                {`Disable ${user.email}`}
              </ConfirmButton>
            )}
            <ResetPassword user={user} />
          </span>
        )}
        {update.error ? (
          <span className="error-text" role="alert">
            {update.error.message}
          </span>
        ) : null}
      </td>
    </tr>
  );
}

function ResetPassword({ user }: { user: UserDto }) {
  const reset = useResetPassword();
  return (
    <>
      <ConfirmButton
        title={`Reset the password of ${user.email}?`}
        message={<p>Their current password stops working at once. The new one is shown here once: hand it over privately.</p>}
        confirmText="Reset password"
        disabled={reset.isPending}
        label={`Reset password of ${user.email}`}
        onConfirm={() => reset.mutate(user.id)}
      >
        Reset password
      </ConfirmButton>
      {reset.data ? (
        <span className="secret-once" role="status" data-testid={`new-password-${user.email}`}>
          New password (shown once): <code>{reset.data.password}</code>{" "}
          <CopyButton value={reset.data.password} label="Copy password" />
          <button type="button" className="button secondary" onClick={() => reset.reset()}>
            Done
          </button>
        </span>
      ) : null}
      {reset.error ? (
        <span className="error-text" role="alert">
          {reset.error.message}
        </span>
      ) : null}
    </>
  );
}

export function UsersView() {
  const users = useUsers();
  const session = useSessionView();
  const list = users.data?.users;
  return (
    <div className="page">
      <div className="page-header">
        <h1>Users</h1>
      </div>
      <CreateUserForm />
      <Panel
        title="Console users"
        testId="panel-users"
        loading={users.isPending}
        error={users.error}
        empty={!!list && list.length === 0}
        emptyText="No user."
      >
        {list ? (
          <DataTable label="Users" columns={["Email", "Role", "Status", "Created", "Actions"]}>
            {list.map((user) => (
              <UserRow key={user.id} user={user} self={user.email === session.email} />
            ))}
          </DataTable>
        ) : null}
      </Panel>
    </div>
  );
}
