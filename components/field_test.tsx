import assert from "node:assert/strict";
import { renderToString } from "preact-render-to-string";
import { Field, fieldAria } from "./field.tsx";

Deno.test("a field labels its control and keeps an empty error paragraph while it is valid", () => {
  const html = renderToString(
    <Field id="f-name" label="Name" error={undefined}>
      <input id="f-name" {...fieldAria("f-name", undefined)} />
    </Field>,
  );
  assert.equal(
    html,
    '<div class="field"><label for="f-name">Name</label><input id="f-name" aria-describedby="f-name-error"/>' +
      '<p class="field-error" id="f-name-error" aria-live="polite"></p></div>',
  );
});

Deno.test("a field with an error is marked invalid and says why", () => {
  const html = renderToString(
    <Field id="f-name" label="Name" error="name is required">
      <input id="f-name" {...fieldAria("f-name", "name is required")} />
    </Field>,
  );
  assert.ok(html.startsWith('<div class="field invalid">'), html);
  assert.ok(html.includes('aria-invalid="true"'), html);
  assert.ok(html.includes('<p class="field-error" id="f-name-error" aria-live="polite">name is required</p>'), html);
});

Deno.test("a field never checked has no error paragraph; one without a label leaves the labelling to its control", () => {
  const unchecked = renderToString(<Field id="c" label="Comment" error={false}>{[]}</Field>);
  assert.equal(unchecked, '<div class="field"><label for="c">Comment</label></div>');
  const unlabelled = renderToString(<Field id="t" error={undefined}>{[]}</Field>);
  assert.ok(!unlabelled.includes("<label"), unlabelled);
});
