/** Reads one run endpoint: `{vm, nic}`, `{valePort}`, `{pipe, id, end}` or `{host, nic}` (shape only). */
import { isMap, isPair } from "yaml";
import { PIPE_ID_MAX, VM_MAX_CPUS } from "../topology/limits";
import { checkInterfaceName, checkPortName, checkSwitchName } from "../topology/names";
import { childPath } from "../topology/paths";
import type { Reader } from "../topology/reader";
import { keyText } from "../topology/yaml-source";
import type { EndpointSpec } from "./model";

const FORMS = ["vm", "valePort", "pipe", "host"] as const;
const FORMS_TEXT =
  "{ vm: NAME, nic: INDEX }, { valePort: SWITCH:PORT }, { pipe: NAME, id: N, end: master|slave } " +
  "or { host: NAME, nic: NIC }";

/** The most NICs a VM can have is bounded by PCI slots; 64 is far beyond any real VM. */
const VM_NIC_INDEX_MAX = VM_MAX_CPUS - 1;

function presentForms(node: unknown): string[] {
  if (!isMap(node)) return [];
  const keys = node.items.filter(isPair).map((pair) => keyText(pair.key));
  return FORMS.filter((form) => keys.includes(form));
}

/** "vale0:a" → switch and port, or a message saying what is wrong. */
export function splitValePort(text: string): { switch: string; port: string } | string {
  const parts = text.split(":");
  if (parts.length !== 2) {
    return `valePort "${text}" must be SWITCH:PORT with exactly one ":", e.g. vale0:a`;
  }
  const [sw, port] = parts;
  const problem = checkSwitchName(sw) ?? checkPortName(port);
  return problem ?? { switch: sw, port };
}

export function readEndpoint(r: Reader, node: unknown, path: string, what: string): EndpointSpec | undefined {
  const forms = presentForms(node);
  const at = (key: string): string => childPath(path, key);
  if (forms.length > 1) {
    r.fields(node, path, { optional: [...FORMS, "nic", "id", "end", "interface"] }, what);
    r.reportKey(at(forms[1]), `${what} is exactly one of ${FORMS_TEXT}; keep one form`);
    return undefined;
  }
  if (forms.length === 0) {
    if (isMap(node)) r.report(path, `${what} needs one of ${FORMS_TEXT}`);
    else r.fields(node, path, {}, what); // reports the type
    return undefined;
  }
  switch (forms[0]) {
    case "vm": {
      const f = r.fields(node, path, { required: ["vm", "nic"], optional: ["interface"] }, what);
      if (!f) return undefined;
      const vm = f.has("vm") ? r.string(f.get("vm"), at("vm"), "VM name") : undefined;
      const nic = f.has("nic")
        ? r.integer(f.get("nic"), at("nic"), "VM NIC index", 0, VM_NIC_INDEX_MAX)
        : undefined;
      const iface = f.has("interface")
        ? r.string(f.get("interface"), at("interface"), "guest interface", checkInterfaceName)
        : undefined;
      if (vm === undefined || nic === undefined || (f.has("interface") && iface === undefined))
        return undefined;
      return { kind: "vm", vm, nic, ...(iface === undefined ? {} : { interface: iface }) };
    }
    case "valePort": {
      const f = r.fields(node, path, { required: ["valePort"] }, what);
      const text = f?.has("valePort") ? r.string(f.get("valePort"), at("valePort"), "valePort") : undefined;
      if (text === undefined) return undefined;
      const split = splitValePort(text);
      if (typeof split === "string") {
        r.report(at("valePort"), split);
        return undefined;
      }
      return { kind: "vale", ...split };
    }
    case "pipe": {
      const f = r.fields(node, path, { required: ["pipe", "id", "end"] }, what);
      if (!f) return undefined;
      const pipe = f.has("pipe") ? r.string(f.get("pipe"), at("pipe"), "pipe name") : undefined;
      const id = f.has("id") ? r.integer(f.get("id"), at("id"), "pipe id", 0, PIPE_ID_MAX) : undefined;
      const end = f.has("end")
        ? r.oneOf(f.get("end"), at("end"), "end", ["master", "slave"] as const)
        : undefined;
      if (pipe === undefined || id === undefined || end === undefined) return undefined;
      return { kind: "pipe", pipe, id, end };
    }
    case "host": {
      const f = r.fields(node, path, { required: ["host", "nic"] }, what);
      if (!f) return undefined;
      const host = f.has("host") ? r.string(f.get("host"), at("host"), "host name") : undefined;
      const nic = f.has("nic")
        ? r.string(f.get("nic"), at("nic"), "NIC name (a key under hosts.H.nics)")
        : undefined;
      if (host === undefined || nic === undefined) return undefined;
      return { kind: "hostNic", host, nic };
    }
  }
  return undefined;
}
