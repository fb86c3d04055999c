/**
 * A form field's frame: the label, the control the caller gives, and the
 * paragraph its error is announced in. The control points at that paragraph
 * with {@linkcode fieldAria}, so a screen reader reads the error with it.
 *
 * @module
 */
import type { ComponentChildren } from "preact";

/** Props of {@linkcode Field}. */
export interface FieldProps {
  /** The control's id: the label's `for`, and (with `-error`) the error paragraph's id. */
  id: string;
  /** The label's text; none when the control is inside a label of its own (a checkbox). */
  label?: string;
  /** The error shown, `undefined` while there is none; `false` for a field that is never checked (no paragraph). */
  error: string | undefined | false;
  /** The control. */
  children: ComponentChildren;
}

/** A field: its label, its control and its error, marked invalid while it has one. */
export function Field({ id, label, error, children }: FieldProps) {
  return (
    <div class={`field${error ? " invalid" : ""}`}>
      {label !== undefined && <label for={id}>{label}</label>}
      {children}
      {error !== false && <p class="field-error" id={`${id}-error`} aria-live="polite">{error ?? ""}</p>}
    </div>
  );
}

/** The attributes that tie a control with id `id` to its {@linkcode Field}'s error. */
export function fieldAria(
  id: string,
  error: string | undefined,
): { "aria-invalid": "true" | undefined; "aria-describedby": string } {
  return { "aria-invalid": error ? "true" : undefined, "aria-describedby": `${id}-error` };
}
