"use client";
// A button that asks first: a modal <dialog> saying what will happen, with Cancel focused so Enter
// does not confirm by accident. For actions that lock people out or delete things.
import { useEffect, useId, useRef, useState, type ReactNode } from "react";

export interface ConfirmButtonProps {
  /** The button's text (and its accessible name, unless `label` is given). */
  children: ReactNode;
  label?: string;
  title: string;
  /** What will happen, in a sentence or two. */
  message: ReactNode;
  confirmText: string;
  onConfirm: () => void;
  disabled?: boolean;
  danger?: boolean;
}

export function ConfirmButton({ children, label, title, message, confirmText, onConfirm, disabled, danger }: ConfirmButtonProps) {
  const [open, setOpen] = useState(false);
  const dialog = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  const titleId = useId();
  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) {
      element.showModal();
      cancel.current?.focus();
    } else if (!open && element.open) element.close();
  }, [open]);
  return (
    <>
      <button
        type="button"
        className={`button ${danger ? "danger" : "secondary"}`}
        disabled={disabled}
        aria-label={label}
        onClick={() => setOpen(true)}
      >
        {children}
      </button>
      <dialog ref={dialog} className="confirm-dialog" aria-labelledby={titleId} onClose={() => setOpen(false)}>
        <h2 id={titleId}>{title}</h2>
        <div className="confirm-message">{message}</div>
        <div className="form-actions">
          <button ref={cancel} type="button" className="button secondary" onClick={() => setOpen(false)}>
            Cancel
          </button>
          <button
            type="button"
            className={`button ${danger ? "danger" : ""}`}
            onClick={() => {
              setOpen(false);
              onConfirm();
            }}
          >
            {confirmText}
          </button>
        </div>
      </dialog>
    </>
  );
}

/** A "Delete" button that asks first, runs `remove` on `id`, and shows the server's refusal (e.g. 409 in use). */
export function ConfirmDelete({
  kind,
  name,
  id,
  message,
  remove,
}: {
  kind: string;
  name: string;
  id: string;
  message: ReactNode;
  remove: { isPending: boolean; error: Error | null; mutate: (id: string) => void };
}) {
  return (
    <>
      <ConfirmButton
        label={`Delete ${name}`}
        title={`Delete ${kind} ${name}?`}
        message={message}
        confirmText={`Delete ${kind}`}
        danger
        disabled={remove.isPending}
        onConfirm={() => remove.mutate(id)}
      >
        Delete
      </ConfirmButton>
      {remove.error ? (
        <span className="error-text" role="alert">
          {remove.error.message}
        </span>
      ) : null}
    </>
  );
}
