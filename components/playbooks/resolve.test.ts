import { planTestbed } from "../plan/plan-testbed";
import { parseTopology } from "../topology";
import { resolveEndpoint, type ResolvedEndpoint } from "./resolve";
import { portsToLend } from "./port-lending";

const topology = parseTopology(
  `apiVersion: netmap-testbed/v1
name: t
netmap:
  source: { git: https://github.com/luigirizzo/netmap.git, ref: 89607e1406c1fa5ac2106bd2ff33417f090c0d60 }
  drivers: []
hosts:
  h1:
    address: 192.0.2.11
    hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDMRLuFO5GnD61L+kDIuyB3UBKAJPVZabXHOd8vIEk47"
    managementInterface: eno1
switches:
  vale0:
    host: h1
    ports:
      a: {}
      b: { rings: 2, slots: 2048 }
`,
  "t.yaml",
);
const plan = planTestbed(topology);

function vale(port: string): ResolvedEndpoint {
  const resolved = resolveEndpoint(topology, plan, { kind: "vale", switch: "vale0", port });
  if (typeof resolved === "string") throw new Error(resolved);
  return resolved;
}

describe("VALE endpoints", () => {
  it("lends a persistent port to pkt-gen, which opens it as an ephemeral port of the same geometry", () => {
    expect(vale("b").port).toEqual({ kind: "name", name: "vale0:b@conf:rings=2,slots=2048" });
    expect(vale("b").lend).toEqual({ host: "h1", switch: "vale0", port: "b", rings: 2, slots: 2048 });
    expect(vale("a").port).toEqual({ kind: "name", name: "vale0:a" });
    expect(vale("a").lend).toEqual({ host: "h1", switch: "vale0", port: "a" });
    expect(vale("a").describe).toBe("vale0:a on h1");
  });

  it("opens an undeclared port as an ephemeral one, with nothing to lend", () => {
    expect(vale("c").port).toEqual({ kind: "name", name: "vale0:c" });
    expect(vale("c").lend).toBeUndefined();
  });

  it("lends each port once however many runs use it", () => {
    expect(portsToLend([vale("a").lend, vale("b").lend, vale("a").lend, vale("c").lend])).toEqual([
      vale("a").lend,
      vale("b").lend,
    ]);
  });
});
