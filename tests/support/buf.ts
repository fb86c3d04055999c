/**
 * Runs the official `buf` CLI (from npm, pinned in deno.json) on `proto/`.
 *
 * @module
 */

import { dirname } from "node:path";

/** The repository root. */
export const ROOT = new URL("../../", import.meta.url);

/** Runs `buf` with `args` in `proto/`; throws with its stderr when it fails. */
export async function runBuf(args: string[]): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "npm:@bufbuild/buf", ...args],
    cwd: new URL("proto/", ROOT),
    // buf.gen.yaml runs protoc-gen-es with `deno`: make sure it is this one.
    env: { PATH: `${dirname(Deno.execPath())}:${Deno.env.get("PATH") ?? ""}` },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  if (!output.success) throw new Error(`buf ${args.join(" ")} failed: ${stderr}`);
  return new TextDecoder().decode(output.stdout);
}

/** A field of a protobuf message descriptor (JSON form). */
export interface FieldDescriptor {
  name: string;
  jsonName: string;
  label?: string;
  type: string;
  typeName?: string;
}

/** A protobuf message descriptor (JSON form). */
export interface MessageDescriptor {
  name: string;
  field?: FieldDescriptor[];
  nestedType?: MessageDescriptor[];
  options?: { mapEntry?: boolean };
}

/** A protobuf service descriptor (JSON form). */
export interface ServiceDescriptor {
  name: string;
  method: { name: string; inputType: string; outputType: string }[];
}

/** The messages (by full name, with a leading dot) and services of `proto/`. */
export async function loadDescriptors() {
  const image = JSON.parse(await runBuf(["build", "-o", "-#format=json"])) as {
    file: { package: string; messageType?: MessageDescriptor[]; service?: ServiceDescriptor[] }[];
  };
  const messages = new Map<string, MessageDescriptor>();
  const services = new Map<string, ServiceDescriptor>();
  const collect = (prefix: string, list: MessageDescriptor[] = []) => {
    for (const message of list) {
      messages.set(`${prefix}.${message.name}`, message);
      collect(`${prefix}.${message.name}`, message.nestedType);
    }
  };
  for (const file of image.file) {
    collect(`.${file.package}`, file.messageType);
    for (const service of file.service ?? []) services.set(`${file.package}.${service.name}`, service);
  }
  return { messages, services };
}
