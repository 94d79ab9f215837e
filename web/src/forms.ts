// Forms that post FHIR Parameters: one field binder and one reading of the server's OperationOutcome, so a
// refusal is shown next to the field its expression names ("Parameters.password" -> the password field).
import { useState } from "react";
import { ApiError } from "./api";

/** Which form field an OperationOutcome's expression names ("Parameters.password", "username"), and its text. */
export function fieldOf(error: unknown): [string, string] {
  if (!(error instanceof ApiError)) return ["", error instanceof Error ? error.message : String(error)];
  return [(error.expression ?? "").replace(/^Parameters\./, ""), error.message];
}

type Input = React.ChangeEvent<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>;

/** A form of text fields starting at ``initial``, its per-field errors, and ``field(key)`` to spread on an input. */
export function useFields<F extends Record<string, string>>(initial: F) {
  const [form, setForm] = useState<F>(initial);
  const [errors, setErrors] = useState<Partial<Record<keyof F, string>>>({});
  const field = (key: keyof F) => ({
    value: form[key],
    error: errors[key],
    onChange: (e: Input) => setForm({ ...form, [key]: e.currentTarget.value }),
  });
  return { form, setForm, errors, setErrors, field };
}
