"use client";
// A labelled number input whose state is the text typed: forms read an empty one as "none" or "the
// default", which a number state could not tell from zero.
import { useId, type ReactNode } from "react";

export interface NumberTextFieldProps {
  label: ReactNode;
  value: string;
  onChange: (text: string) => void;
  min?: number;
  max?: number;
  step?: number | "any";
  required?: boolean;
  inputMode?: "numeric" | "decimal";
}

export function NumberTextField({ label, value, onChange, min, max, step, required, inputMode }: NumberTextFieldProps) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="number"
        min={min}
        max={max}
        step={step}
        inputMode={inputMode}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        required={required}
      />
    </div>
  );
}
